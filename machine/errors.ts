// Errors about user input (a file, a flag, a scenario). The CLI prints the message alone and
// exits with code 2; anything else reaching the top level is a bug in exolab.

export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

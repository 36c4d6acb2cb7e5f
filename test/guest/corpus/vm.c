/* A small stack-machine bytecode interpreter: a switch-dispatched loop running programs that
   count primes by trial division, compute Fibonacci numbers and a gcd. */

#include "rt.h"

enum op {
	PUSH, LOAD, STORE, ADD, SUB, MUL, DIV, MOD, LT, EQ, JMP, JZ, JNZ, DUP, DROP, SWAP, PRINT, HALT,
};

struct vm {
	int32_t stack[64];
	int32_t vars[8];
	int sp;
	uint32_t steps;
};

static int32_t run(struct vm *m, const int32_t *code)
{
	int pc = 0;

	m->sp = 0;
	for (;;) {
		int32_t a, b;
		m->steps++;
		switch ((enum op)code[pc++]) {
		case PUSH: m->stack[m->sp++] = code[pc++]; break;
		case LOAD: m->stack[m->sp++] = m->vars[code[pc++]]; break;
		case STORE: m->vars[code[pc++]] = m->stack[--m->sp]; break;
		case ADD: b = m->stack[--m->sp]; a = m->stack[--m->sp]; m->stack[m->sp++] = a + b; break;
		case SUB: b = m->stack[--m->sp]; a = m->stack[--m->sp]; m->stack[m->sp++] = a - b; break;
		case MUL: b = m->stack[--m->sp]; a = m->stack[--m->sp]; m->stack[m->sp++] = a * b; break;
		case DIV: b = m->stack[--m->sp]; a = m->stack[--m->sp]; m->stack[m->sp++] = a / b; break;
		case MOD: b = m->stack[--m->sp]; a = m->stack[--m->sp]; m->stack[m->sp++] = a % b; break;
		case LT: b = m->stack[--m->sp]; a = m->stack[--m->sp]; m->stack[m->sp++] = a < b; break;
		case EQ: b = m->stack[--m->sp]; a = m->stack[--m->sp]; m->stack[m->sp++] = a == b; break;
		case JMP: pc = code[pc]; break;
		case JZ: pc = m->stack[--m->sp] ? pc + 1 : code[pc]; break;
		case JNZ: pc = m->stack[--m->sp] ? code[pc] : pc + 1; break;
		case DUP: m->stack[m->sp] = m->stack[m->sp - 1]; m->sp++; break;
		case DROP: m->sp--; break;
		case SWAP: a = m->stack[m->sp - 1]; m->stack[m->sp - 1] = m->stack[m->sp - 2]; m->stack[m->sp - 2] = a; break;
		case PRINT: rt_printf("vm: %d\n", m->stack[--m->sp]); break;
		case HALT: return m->sp ? m->stack[m->sp - 1] : 0;
		default: rt_printf("vm: bad opcode at %d\n", pc - 1); return -1;
		}
	}
}

/* a one-pass assembler with forward labels */
struct asm_ {
	int32_t code[256];
	int len;
	int label[8];
	int fixAt[16], fixLabel[16], nfix;
};

static void op(struct asm_ *a, int32_t o)
{
	a->code[a->len++] = o;
}

static void op1(struct asm_ *a, int32_t o, int32_t arg)
{
	op(a, o);
	op(a, arg);
}

static void jump(struct asm_ *a, int32_t o, int label)
{
	op(a, o);
	a->fixAt[a->nfix] = a->len;
	a->fixLabel[a->nfix++] = label;
	op(a, -1);
}

static void here(struct asm_ *a, int label)
{
	a->label[label] = a->len;
}

static const int32_t *link(struct asm_ *a)
{
	for (int i = 0; i < a->nfix; i++)
		a->code[a->fixAt[i]] = a->label[a->fixLabel[i]];
	return a->code;
}

enum { N, D, COUNT, LIMIT, SUM };	/* variables */
enum { OUTER, INNER, PRIME, NEXT, END };	/* labels */

/* count and sum the primes below vars[LIMIT] by trial division */
static const int32_t *primes(struct asm_ *a)
{
	op1(a, PUSH, 2); op1(a, STORE, N);
	op1(a, PUSH, 0); op1(a, STORE, COUNT);
	op1(a, PUSH, 0); op1(a, STORE, SUM);
	here(a, OUTER);
	op1(a, LOAD, N); op1(a, LOAD, LIMIT); op(a, LT); jump(a, JZ, END);
	op1(a, PUSH, 2); op1(a, STORE, D);
	here(a, INNER);
	op1(a, LOAD, N); op1(a, LOAD, D); op1(a, LOAD, D); op(a, MUL); op(a, LT); jump(a, JNZ, PRIME);
	op1(a, LOAD, N); op1(a, LOAD, D); op(a, MOD); jump(a, JZ, NEXT);
	op1(a, LOAD, D); op1(a, PUSH, 1); op(a, ADD); op1(a, STORE, D); jump(a, JMP, INNER);
	here(a, PRIME);
	op1(a, LOAD, COUNT); op1(a, PUSH, 1); op(a, ADD); op1(a, STORE, COUNT);
	op1(a, LOAD, SUM); op1(a, LOAD, N); op(a, ADD); op1(a, STORE, SUM);
	here(a, NEXT);
	op1(a, LOAD, N); op1(a, PUSH, 1); op(a, ADD); op1(a, STORE, N); jump(a, JMP, OUTER);
	here(a, END);
	op1(a, LOAD, COUNT); op(a, PRINT); op1(a, LOAD, SUM); op(a, PRINT); op1(a, LOAD, COUNT); op(a, HALT);
	return link(a);
}

/* a, b = b, a + b, forty times */
static const int32_t *fib(struct asm_ *a)
{
	op1(a, PUSH, 0); op1(a, STORE, 0); op1(a, PUSH, 1); op1(a, STORE, 1); op1(a, PUSH, 0); op1(a, STORE, 2);
	here(a, OUTER);
	op1(a, LOAD, 2); op1(a, PUSH, 40); op(a, LT); jump(a, JZ, END);
	op1(a, LOAD, 0); op1(a, LOAD, 1); op(a, DUP); op1(a, STORE, 0); op(a, ADD); op1(a, STORE, 1);
	op1(a, LOAD, 2); op1(a, PUSH, 1); op(a, ADD); op1(a, STORE, 2); jump(a, JMP, OUTER);
	here(a, END);
	op1(a, LOAD, 0); op(a, HALT);
	return link(a);
}

/* Euclid: while b, a, b = b, a % b */
static const int32_t *gcd(struct asm_ *a)
{
	op1(a, PUSH, 1071); op1(a, STORE, 0); op1(a, PUSH, 462); op1(a, STORE, 1);
	here(a, OUTER);
	op1(a, LOAD, 1); jump(a, JZ, END);
	op1(a, LOAD, 0); op1(a, LOAD, 1); op(a, MOD); op1(a, LOAD, 1); op1(a, STORE, 0); op1(a, STORE, 1);
	jump(a, JMP, OUTER);
	here(a, END);
	op1(a, PUSH, 9); op1(a, LOAD, 0); op(a, SWAP); op(a, DROP); op(a, HALT);
	return link(a);
}

int main(void)
{
	static struct asm_ a;
	struct vm m;
	int32_t r;

	memset(&m, 0, sizeof m);
	m.vars[LIMIT] = 1000;
	r = run(&m, primes(&a));
	rt_check32("primes below 1000", (uint32_t)r, 168);
	rt_check32("sum of primes below 1000", (uint32_t)m.vars[SUM], 76127);
	rt_printf("vm steps %u, code length %d\n", m.steps, a.len);

	memset(&a, 0, sizeof a);
	memset(&m, 0, sizeof m);
	r = run(&m, fib(&a));
	rt_check32("fib(40)", (uint32_t)r, 102334155);
	memset(&a, 0, sizeof a);
	memset(&m, 0, sizeof m);
	r = run(&m, gcd(&a));
	rt_check32("gcd(1071, 462)", (uint32_t)r, 21);
	rt_printf("vm steps %u\n", m.steps);
	return rt_done();
}

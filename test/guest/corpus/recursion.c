/* Calls and returns in depth: Ackermann, naive Fibonacci, mutual recursion, Towers of Hanoi,
   a recursive descent expression parser, and a deep chain that uses a lot of stack. */

#include "rt.h"

static uint32_t ackermann(uint32_t m, uint32_t n)
{
	if (m == 0)
		return n + 1;
	if (n == 0)
		return ackermann(m - 1, 1);
	return ackermann(m - 1, ackermann(m, n - 1));
}

static uint32_t fib(uint32_t n)
{
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static int isOdd(uint32_t n);

static int isEven(uint32_t n)
{
	return n == 0 ? 1 : isOdd(n - 1);
}

static int isOdd(uint32_t n)
{
	return n == 0 ? 0 : isEven(n - 1);
}

static uint32_t moves;

static void hanoi(int n, int from, int to, int via, uint32_t *trace)
{
	if (n == 0)
		return;
	hanoi(n - 1, from, via, to, trace);
	moves++;
	*trace = (*trace * 31 + (uint32_t)(from * 3 + to)) ^ (uint32_t)n;
	hanoi(n - 1, via, to, from, trace);
}

/* expr := term (('+'|'-') term)*, term := factor (('*'|'/'|'%') factor)*, factor := num | '(' expr ')' | '-' factor */
static const char *pos;

static int32_t expr(void);

static int32_t factor(void)
{
	int32_t v = 0;

	if (*pos == '(') {
		pos++;
		v = expr();
		pos++;	/* ')' */
		return v;
	}
	if (*pos == '-') {
		pos++;
		return -factor();
	}
	while (*pos >= '0' && *pos <= '9')
		v = v * 10 + (*pos++ - '0');
	return v;
}

static int32_t term(void)
{
	int32_t v = factor();

	while (*pos == '*' || *pos == '/' || *pos == '%') {
		char op = *pos++;
		int32_t r = factor();
		v = op == '*' ? v * r : op == '/' ? v / r : v % r;
	}
	return v;
}

static int32_t expr(void)
{
	int32_t v = term();

	while (*pos == '+' || *pos == '-') {
		char op = *pos++;
		int32_t r = term();
		v = op == '+' ? v + r : v - r;
	}
	return v;
}

static int32_t eval(const char *s)
{
	pos = s;
	return expr();
}

/* depth-first: each frame holds a small array so the stack grows by ~100 KiB */
static uint32_t deep(uint32_t n)
{
	volatile uint32_t local[16];

	for (unsigned i = 0; i < NELEM(local); i++)
		local[i] = n * i;
	if (n == 0)
		return 0;
	return deep(n - 1) + local[n % 16] + local[3];
}

int main(void)
{
	volatile uint32_t three = 3;
	uint32_t trace = 0;

	rt_check32("ackermann(2, 3)", ackermann(2, three), 9);
	rt_check32("ackermann(3, 3)", ackermann(three, three), 61);
	rt_check32("ackermann(3, 4)", ackermann(three, three + 1), 125);
	rt_check32("fib(20)", fib(20 + three - 3), 6765);
	rt_check32("isEven(1001)", (uint32_t)isEven(1000 + three - 2), 0);
	rt_check32("isOdd(777)", (uint32_t)isOdd(777 + three - 3), 1);
	hanoi(10, 1, 3, 2, &trace);
	rt_check32("hanoi(10) moves", moves, 1023);
	rt_printf("hanoi trace %08x\n", trace);
	rt_check32("eval 1", (uint32_t)eval("1+2*3"), 7);
	rt_check32("eval 2", (uint32_t)eval("(1+2)*3-4/2"), 7);
	rt_check32("eval 3", (uint32_t)eval("-(7*-(3+4))%5+100/-7"), (uint32_t)(4 + -14));
	rt_check32("eval 4", (uint32_t)eval("((((((((((42))))))))))*2-(((1)))"), 83);
	rt_check32("deep(1500)", deep(1500 + three - 3), 11823044);
	return rt_done();
}

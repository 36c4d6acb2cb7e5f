/* kv: a key-value store on one UDP port (KV_PORT, 7777), in a fixed table of TABLE_SLOTS
   slots with open addressing (FNV-1a hash, linear probing, tombstones for deleted keys).
   Stops after IDLE_CYCLES without a frame and prints its counters.

   Protocol: one request per datagram, one reply datagram per request, to the sender from
   KV_PORT. ASCII, commands in upper case, fields separated by exactly one space:
     PUT <key> <value>   "OK" (stored, or the old value replaced); "ERR full" for a new key
                         when TABLE_SLOTS keys are already held
     GET <key>           "VALUE <value>", or "MISSING"
     DEL <key>           "OK", or "MISSING"
   <key> is 1..KEY_MAX bytes of 0x21..0x7e (no space); <value> is 1..VALUE_MAX bytes of
   0x20..0x7e: everything after the space that ends the key, spaces included. One trailing
   '\n' is ignored (what `nc -u` sends). Any other datagram is answered "ERR <reason>", with
   the reasons of KV_ERRORS below, and counted by reason; a datagram is never acted on in part. */

#include "libc.h"
#include "net.h"

#ifndef KV_PORT
#define KV_PORT		7777
#endif
#ifndef TABLE_SLOTS
#define TABLE_SLOTS	64	/* a power of two */
#endif
#ifndef KEY_MAX
#define KEY_MAX		32
#endif
#ifndef VALUE_MAX
#define VALUE_MAX	64
#endif
#ifndef IDLE_CYCLES
#define IDLE_CYCLES	20000000ull	/* 10 ms at 2 GHz */
#endif
#ifndef RX_MODE
#define RX_MODE		NET_RX_POLL
#endif

#define REPLY_MAX	(6 + VALUE_MAX)	/* "VALUE " and the longest value */

_Static_assert((TABLE_SLOTS & (TABLE_SLOTS - 1)) == 0 && TABLE_SLOTS > 0, "TABLE_SLOTS: a power of two");
_Static_assert(KEY_MAX <= 255 && VALUE_MAX <= 255, "lengths are kept in a byte");

#define KV_ERRORS(X) \
	X(empty,	"an empty datagram") \
	X(byte,		"a byte outside 0x20..0x7e") \
	X(command,	"not PUT, GET or DEL followed by a space") \
	X(key,		"an empty key") \
	X(key_long,	"a key over KEY_MAX bytes") \
	X(value,	"PUT without a value") \
	X(value_long,	"a value over VALUE_MAX bytes") \
	X(args,		"GET or DEL with more after the key") \
	X(full,		"PUT of a new key into a full table")

#define KV_ERR_ENUM(name, why) KV_ERR_##name,
enum kv_err { KV_ERRORS(KV_ERR_ENUM) KV_ERRS, KV_OK = -1 };
#undef KV_ERR_ENUM

#define KV_ERR_NAME(name, why) #name,
#define KV_ERR_WHY(name, why) why,
static const char *const errName[KV_ERRS] = { KV_ERRORS(KV_ERR_NAME) };
static const char *const errWhy[KV_ERRS] = { KV_ERRORS(KV_ERR_WHY) };

/* ---- the table ---- */

enum { SLOT_EMPTY, SLOT_LIVE, SLOT_DEAD };	/* DEAD: a deleted key; probing goes on past it */

struct slot {
	uint8_t state, klen, vlen;
	char key[KEY_MAX];
	char value[VALUE_MAX];
};

static struct slot table[TABLE_SLOTS];
static uint32_t live;

static uint32_t kvHash(const char *k, uint32_t n)
{
	uint32_t h = 2166136261u;

	for (uint32_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)k[i]) * 16777619u;
	return h;
}

/* The live slot holding key k, or NULL; *freeSlot (if asked) gets the first slot along the
   probe a new key could take, or NULL. At most TABLE_SLOTS probes, tombstones or not. */
static struct slot *kvFind(const char *k, uint32_t n, struct slot **freeSlot)
{
	uint32_t i = kvHash(k, n) & (TABLE_SLOTS - 1);
	struct slot *first = NULL;

	for (uint32_t probes = 0; probes < TABLE_SLOTS; probes++, i = (i + 1) & (TABLE_SLOTS - 1)) {
		struct slot *s = &table[i];
		if (s->state == SLOT_LIVE) {
			if (s->klen == n && memcmp(s->key, k, n) == 0)
				return s;
			continue;
		}
		if (first == NULL)
			first = s;
		if (s->state == SLOT_EMPTY)
			break;	/* the key was never placed past here */
	}
	if (freeSlot)
		*freeSlot = first;
	return NULL;
}

/* ---- requests ---- */

struct request {
	char op;		/* 'P', 'G', 'D' */
	const char *key, *value;
	uint32_t klen, vlen;
};

/* Decode payload p[0..n) into *r; KV_OK or why not. */
static int kvParse(const uint8_t *p, uint32_t n, struct request *r)
{
	if (n > 0 && p[n - 1] == '\n')
		n--;
	if (n == 0)
		return KV_ERR_empty;
	for (uint32_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return KV_ERR_byte;
	if (n < 4 || p[3] != ' ')
		return KV_ERR_command;
	if (memcmp(p, "PUT", 3) == 0)
		r->op = 'P';
	else if (memcmp(p, "GET", 3) == 0)
		r->op = 'G';
	else if (memcmp(p, "DEL", 3) == 0)
		r->op = 'D';
	else
		return KV_ERR_command;

	uint32_t k = 4, e = k;
	while (e < n && p[e] != ' ')
		e++;
	if (e == k)
		return KV_ERR_key;
	if (e - k > KEY_MAX)
		return KV_ERR_key_long;
	r->key = (const char *)p + k;
	r->klen = e - k;
	if (r->op != 'P')
		return e == n ? KV_OK : KV_ERR_args;
	if (e + 1 >= n)
		return KV_ERR_value;	/* "PUT k" or "PUT k " */
	if (n - (e + 1) > VALUE_MAX)
		return KV_ERR_value_long;
	r->value = (const char *)p + e + 1;
	r->vlen = n - (e + 1);
	return KV_OK;
}

struct kv_stats {
	uint32_t requests, puts, gets, dels;
	uint32_t ok, values, missing, errors;
	uint32_t err[KV_ERRS];
	uint32_t failed;	/* replies that found no TX slot or buffer */
};

static struct kv_stats st;

/* Count error e and write its reply to out; the reply's length. */
static uint32_t kvError(int e, char *out)
{
	st.errors++;
	st.err[e]++;
	return (uint32_t)snprintf(out, REPLY_MAX, "ERR %s", errName[e]);
}

/* Carry out request r; the reply text goes to out (REPLY_MAX bytes); its length. */
static uint32_t kvServe(const struct request *r, char *out)
{
	struct slot *s, *hole;

	switch (r->op) {
	case 'P':
		st.puts++;
		s = kvFind(r->key, r->klen, &hole);
		if (s == NULL) {
			if (live == TABLE_SLOTS || hole == NULL)
				return kvError(KV_ERR_full, out);
			s = hole;
			s->state = SLOT_LIVE;
			s->klen = (uint8_t)r->klen;
			memcpy(s->key, r->key, r->klen);
			live++;
		}
		s->vlen = (uint8_t)r->vlen;
		memcpy(s->value, r->value, r->vlen);
		break;
	case 'G':
		st.gets++;
		s = kvFind(r->key, r->klen, NULL);
		if (s == NULL)
			break;
		memcpy(out, "VALUE ", 6);
		memcpy(out + 6, s->value, s->vlen);
		st.values++;
		return 6 + s->vlen;
	default:
		st.dels++;
		s = kvFind(r->key, r->klen, NULL);
		if (s == NULL)
			break;
		s->state = SLOT_DEAD;
		live--;
		break;
	}
	if (s == NULL) {
		st.missing++;
		memcpy(out, "MISSING", 7);
		return 7;
	}
	st.ok++;
	memcpy(out, "OK", 2);
	return 2;
}

/* The reply to datagram payload p[0..n) in out; its length. */
static uint32_t kvRequest(const uint8_t *p, uint32_t n, char *out)
{
	struct request r;
	int e = kvParse(p, n, &r);

	st.requests++;
	return e == KV_OK ? kvServe(&r, out) : kvError(e, out);
}

static void kvPrintStats(void)
{
	printf("kv: requests %u: put %u get %u del %u malformed %u\n", st.requests, st.puts, st.gets, st.dels,
	       st.requests - st.puts - st.gets - st.dels);
	printf("kv: replies ok %u value %u missing %u err %u; failed %u\n", st.ok, st.values, st.missing,
	       st.errors, st.failed);
	for (int e = 0; e < KV_ERRS; e++)
		if (st.err[e])
			printf("kv: err %s %u (%s)\n", errName[e], st.err[e], errWhy[e]);
	printf("kv: keys %u of %u slots\n", live, TABLE_SLOTS);
}

int main(void)
{
	struct net_config c = { .ip = { 10, 0, 0, 1 }, .rx_mode = RX_MODE };
	struct net_dgram d;
	struct net_stats s;
	static char out[REPLY_MAX];
	uint32_t seen = 0;

	if (net_init(&c) != 0)
		return 2;
	if (net_udp_bind(KV_PORT) != 0)
		return 2;
	printf("kv: port %u, %u slots, keys to %u bytes, values to %u\n", KV_PORT, TABLE_SLOTS, KEY_MAX, VALUE_MAX);
	for (;;) {
		if (net_udp_recv(&d, IDLE_CYCLES)) {
			uint32_t n = kvRequest(d.data, d.len, out);
			if (net_udp_sendto(&d.from, d.to.port, out, n) != 0)
				st.failed++;
			net_udp_free(&d);
			continue;
		}
		net_stats(&s);
		if (s.rx_frames == seen)	/* a whole idle period without a frame of any kind */
			break;
		seen = s.rx_frames;
	}
	kvPrintStats();
	int ok = net_shutdown(IDLE_CYCLES);
	return ok == 0 && st.failed == 0 ? 0 : 1;
}

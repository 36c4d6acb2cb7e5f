/* Interrupts as upcalls: the LibOS binds its NIC queue (QUEUE_BIND maps the register page),
   registers the interrupt upcall, binds the queue's MSI vector in the mode boot info asks
   for, sets up TX and RX rings in DMA-mapped frames on the `loop` wire (TX comes back as RX),
   sends 16 frames and yields until they are back. Checks: frames byte-exact, at least one
   interrupt upcall, each with arg0 == the vector and arg1 == the mode. */

#include "exotest.h"
#include "../../../libos/net/nicq.h"	/* the queue's registers and descriptors */

#define PAGE	EXO_PAGE_SIZE
#define RING	32
#define BUF	2048
#define N	16
#define PATIENCE	400000000ull	/* cycles to wait for the frames back */

static volatile uint32_t irqs, badVector, badMode, lastVector, lastMode;
static uint32_t wantVector, wantMode;

static void onInterrupt(struct exo_upcall_frame *f)
{
	if (f->kind == EXO_UPCALL_INTERRUPT) {
		irqs++;
		lastVector = f->arg0;
		lastMode = f->arg1;
		badVector += f->arg0 != wantVector;
		badMode += f->arg1 != wantMode;
	}
	exo_resume(f);
}

/* DMA memory: a Frame mapped read-write, and into the domain at IOVA == VA. */
static void *dmaAlloc(uint32_t dom, uint32_t bytes, uint32_t devPerms)
{
	uint32_t s;
	uint8_t *va = exo_mem_map(bytes, EXO_R_READ | EXO_R_WRITE, &s);

	if (!va || exo_dma_map(dom, s, (uint32_t)va, devPerms) != 0)
		return 0;
	for (uint32_t k = 0; k < bytes; k++)
		va[k] = 0;
	return va;
}

static uint32_t frameLen(uint32_t k)
{
	return 60 + k * 37 % 200;
}

/* Frame k, byte j: to and from the station address (boot info), a local EtherType, a pattern.
   Not UDP: the NIC steers it to its default queue (or by a MAC rule the kernel set). */
static uint8_t frameByte(uint32_t k, uint32_t j)
{
	const struct exo_boot_info *bi = exo_boot_info();

	if (j < 12)
		return (uint8_t)((j % 6 < 4 ? bi->mac_lo >> 8 * (j % 6) : bi->mac_hi >> 8 * (j % 6 - 4)) & 0xff);
	if (j == 12)
		return 0x88;
	if (j == 13)
		return 0xb5;			/* local experimental EtherType */
	return (uint8_t)(k * 31 + j * 7);
}

int main(void)
{
	const struct exo_boot_info *bi = exo_boot_info();
	uint32_t q = exo_boot_slot(EXO_CAP_DEVICE_QUEUE, 0), dom = exo_boot_slot(EXO_CAP_DMA_DOMAIN, 0);
	const struct exo_boot_cap *vec = exo_boot_cap(EXO_CAP_MSI_VECTOR, 0);

	if (!check(q != EXO_SLOT_NONE && dom != EXO_SLOT_NONE && vec, "irq-boot-caps", "queue %u domain %u vector %p", q, dom,
		   (const void *)vec))
		return finish();
	wantVector = vec->base;
	wantMode = bi->irq_mode;

	uint32_t qva = exo_va_alloc(PAGE);
	void *stack = upcall_stack();
	if (!expect("queue-bind", exo_queue_bind(q, dom, vec->slot, qva), 0) || !check(stack != 0, "upcall-stack", "none"))
		return finish();
	volatile uint32_t *regs = (volatile uint32_t *)qva;
	expect("upcall-entry-interrupt", exo_upcall_entry(EXO_UPCALL_INTERRUPT, onInterrupt, stack), 0);
	expect("irq-bind", exo_irq_bind(vec->slot, bi->irq_mode, exo_core), 0);

	volatile struct nic_desc *tx = dmaAlloc(dom, PAGE, EXO_R_READ | EXO_R_WRITE);
	volatile struct nic_desc *rx = dmaAlloc(dom, PAGE, EXO_R_READ | EXO_R_WRITE);
	uint8_t *txb = dmaAlloc(dom, RING * BUF, EXO_R_READ);
	uint8_t *rxb = dmaAlloc(dom, RING * BUF, EXO_R_READ | EXO_R_WRITE);
	if (!check(tx && rx && txb && rxb, "dma-memory", "rings %p %p buffers %p %p", (void *)tx, (void *)rx, txb, rxb))
		return finish();

	/* the queue: rings, causes clear, RX done interrupts, on; then every RX slot but one posted */
	regs[NQ_QCTRL / 4] = 0;
	regs[NQ_TXBASE / 4] = (uint32_t)tx;
	regs[NQ_TXSIZE / 4] = RING;
	regs[NQ_RXBASE / 4] = (uint32_t)rx;
	regs[NQ_RXSIZE / 4] = RING;
	regs[NQ_CAUSE / 4] = NC_ALL;
	regs[NQ_ITR / 4] = 0;
	regs[NQ_IMASK / 4] = NC_RXDONE;
	regs[NQ_QCTRL / 4] = NQ_TXEN | NQ_RXEN;
	for (uint32_t k = 0; k < RING - 1; k++) {
		rx[k].addr = (uint32_t)(rxb + k * BUF);
		rx[k].len = BUF;
	}
	__asm__ volatile("" ::: "memory");
	regs[NQ_RXTAIL / 4] = RING - 1;

	for (uint32_t k = 0; k < N; k++) {
		uint8_t *b = txb + k * BUF;
		for (uint32_t j = 0; j < frameLen(k); j++)
			b[j] = frameByte(k, j);
		tx[k].addr = (uint32_t)b;
		tx[k].len = (uint16_t)frameLen(k);
		tx[k].cmd = NIC_CMD_EOP | NIC_CMD_RS;
	}
	__asm__ volatile("" ::: "memory");
	regs[NQ_TXTAIL / 4] = N;

	/* yield until the frames are back and an interrupt has come, or patience runs out */
	uint32_t got = 0, bad = 0, yields = 0;
	uint64_t t0 = plat_cycles();
	while ((got < N || irqs == 0) && plat_cycles() - t0 < PATIENCE) {
		regs[NQ_CAUSE / 4] = NC_ALL;
		while (got < N && (rx[got].status & NIC_STA_DD)) {
			const uint8_t *p = rxb + got * BUF;
			int same = rx[got].len == frameLen(got) && NIC_STA_ERR(rx[got].status) == 0;
			for (uint32_t j = 0; same && j < frameLen(got); j++)
				same = p[j] == frameByte(got, j);
			bad += !same;
			got++;
		}
		if (got < N || irqs == 0) {
			exo_yield();
			yields++;
		}
	}
	uint32_t sent = 0;
	for (uint32_t k = 0; k < N; k++)
		sent += (tx[k].status & NIC_STA_DD) != 0;

	printf("irq: sent %u received %u interrupts %u yields %u vector %u mode %u\n", sent, got, irqs, yields, lastVector,
	       lastMode);
	check(sent == N, "loop-tx-done", "%u of %u TX descriptors done", sent, N);
	check(got == N && bad == 0, "loop-frames-byte-exact", "%u of %u received, %u differ", got, N, bad);
	check(irqs >= 1, "irq-upcalls", "no interrupt upcall in %u yields", yields);
	check(irqs >= 1 && badVector == 0, "irq-upcall-vector", "%u of %u upcalls with arg0 != %u (last %u)", badVector, irqs,
	      wantVector, lastVector);
	check(irqs >= 1 && badMode == 0, "irq-upcall-mode", "%u of %u upcalls with arg1 != %u (last %u)", badMode, irqs, wantMode,
	      lastMode);
	expect("irq-unbind", exo_irq_unbind(vec->slot), 0);
	expect("queue-unbind", exo_queue_unbind(q), 0);
	return finish();
}

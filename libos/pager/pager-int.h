/* What the pager's files share beyond pager.h. */

#ifndef PAGER_INT_H
#define PAGER_INT_H

#include "pager.h"

/* MAP_QUERY on the region page `vpn` (resident): its EXO_PTE_* bits, `clear` cleared. A
   failure is fatal (the pager lost track of its own mapping). */
uint32_t pagerQuery(struct pager *pg, uint32_t vpn, uint32_t clear);

#endif

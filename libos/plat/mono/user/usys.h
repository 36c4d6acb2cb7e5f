/* The app side's one way into the mono kernel. */

#ifndef USYS_H
#define USYS_H

#include <stdint.h>
#include "../mono.h"

int32_t mono_sys(uint32_t nr, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4, uint32_t a5);

#endif

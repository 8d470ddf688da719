// Nothing to import: the fuzz entry point is found by the linker (see entry.c).
#ifndef IMGFN_CFUZZMAIN_H
#define IMGFN_CFUZZMAIN_H
#endif

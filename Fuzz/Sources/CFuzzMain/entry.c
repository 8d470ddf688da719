// The fuzz build's entry point (`make fuzz` compiles with -DFUZZING): SwiftPM names an
// executable's entry `<module>_main`, so this hands the command line to libFuzzer's driver with
// the Swift harness (`LLVMFuzzerTestOneInput` in imgfn-fuzz). Empty in a plain build, where the
// Swift replay `main` is the entry.
#include "CFuzzMain.h"

#ifdef FUZZING
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

int imgfn_fuzz_main(int argc, char **argv) {
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}
#endif

/* A slow disk for tests: LD_PRELOAD this and every fsync/fdatasync first sleeps for the
 * milliseconds written in the file named by SLOW_FSYNC_CONTROL (0 or no file: no delay). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void wait_as_told(void) {
    const char *path = getenv("SLOW_FSYNC_CONTROL");
    if (path == NULL) return;
    FILE *control = fopen(path, "r");
    if (control == NULL) return;
    int millis = 0;
    if (fscanf(control, "%d", &millis) != 1) millis = 0;
    fclose(control);
    if (millis > 0) usleep((useconds_t)millis * 1000);
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (real == NULL) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    wait_as_told();
    return real(fd);
}

int fsync(int fd) {
    static int (*real)(int);
    if (real == NULL) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    wait_as_told();
    return real(fd);
}

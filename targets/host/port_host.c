/* edgeml host target: edg_port.h over a pseudo-terminal, so the firmware's main loop runs natively
 * and the host talks to it exactly as to a board's UART (edgeml/hil/native.py).
 *
 * edg_port_init opens a pty master in raw mode and prints its slave's path as the first line of
 * stdout: "edgeml-host pty /dev/pts/N". Until a host opens that slave, Linux reports a hang-up on
 * the master, so the process waits (at most EDG_HOST_CONNECT_MS); once the host has opened it and
 * closed it again (hang-up, or EIO on read/write), the process exits with status 0. The host is
 * noticed when it sends a byte or keeps the pty open for a poll period (20 ms): a host that opens
 * and closes it at once, silently, is not seen, and the process waits out EDG_HOST_CONNECT_MS (the
 * Python session sends IDENTIFY first, and kills the process if it lingers). Ticks are
 * CLOCK_MONOTONIC nanoseconds; there is no stack figure (0). */
#define _XOPEN_SOURCE 600 /* posix_openpt, grantpt, unlockpt, ptsname, clock_gettime under -std=c99 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "edg_port.h"

#ifndef EDG_HOST_CONNECT_MS
#define EDG_HOST_CONNECT_MS 60000 /* give up if no host opens the pty within this time */
#endif

static int master = -1;
static int connected; /* the host has had the slave open */
static uint8_t rx_buffer[4096];
static size_t rx_length;
static size_t rx_next;

static void fail(const char *what) {
    fprintf(stderr, "edgeml-host: %s: %s\n", what, strerror(errno));
    exit(2);
}

/* The host closed its end: the session is over, and no process is left behind. */
static void hang_up(void) { exit(0); }

static void make_raw(int fd) {
    struct termios t;
    if (tcgetattr(fd, &t) != 0) {
        fail("tcgetattr");
    }
    t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON | IXOFF | IXANY);
    t.c_oflag &= ~(tcflag_t)OPOST;
    t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
    t.c_cflag |= CS8;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(fd, TCSANOW, &t) != 0) {
        fail("tcsetattr");
    }
}

void edg_port_init(void) {
    master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
        fail("cannot create a pseudo-terminal");
    }
    make_raw(master);
    const char *slave = ptsname(master);
    if (slave == NULL) {
        fail("ptsname");
    }
    printf("edgeml-host pty %s\n", slave);
    fflush(stdout);
}

static uint64_t now_ms(void) { return edg_port_ticks() / 1000000u; }

/* Before the host connects, the master reports a hang-up: poll again shortly, up to the deadline. */
static void wait_for_host(uint64_t deadline_ms) {
    if (connected) {
        hang_up();
    }
    if (now_ms() > deadline_ms) {
        fprintf(stderr, "edgeml-host: nobody opened the pty within %d ms; exiting\n", EDG_HOST_CONNECT_MS);
        exit(3);
    }
    const struct timespec pause = {0, 5000000}; /* 5 ms */
    nanosleep(&pause, NULL);
}

static void fill(void) {
    const uint64_t deadline_ms = now_ms() + (uint64_t)EDG_HOST_CONNECT_MS;
    for (;;) {
        struct pollfd p = {master, POLLIN, 0};
        const int ready = poll(&p, 1, connected ? -1 : 20);
        if (ready < 0) {
            if (errno == EINTR) {
                continue;
            }
            fail("poll");
        }
        if (p.revents & POLLIN) {
            const ssize_t n = read(master, rx_buffer, sizeof rx_buffer);
            if (n > 0) {
                connected = 1;
                rx_length = (size_t)n;
                rx_next = 0;
                return;
            }
            if (n < 0 && errno != EIO && errno != EINTR && errno != EAGAIN) {
                fail("read");
            }
            if (n == 0 || (n < 0 && errno == EIO)) {
                wait_for_host(deadline_ms);
            }
            continue;
        }
        if (p.revents & (POLLHUP | POLLERR)) {
            wait_for_host(deadline_ms);
            continue;
        }
        connected = 1; /* no hang-up: the slave is open */
    }
}

uint8_t edg_port_read_byte(void) {
    if (rx_next == rx_length) {
        fill();
    }
    return rx_buffer[rx_next++];
}

void edg_port_write(const uint8_t *data, size_t n) {
    while (n > 0) {
        const ssize_t written = write(master, data, n);
        if (written < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            if (errno == EIO) {
                hang_up();
            }
            fail("write");
        }
        data += written;
        n -= (size_t)written;
    }
}

uint64_t edg_port_ticks(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

uint32_t edg_port_tick_hz(void) { return 1000000000u; }

uint32_t edg_port_stack_unused(void) { return 0u; }

uint32_t edg_port_stack_size(void) { return 0u; }

const char *edg_port_target_name(void) { return "host"; }

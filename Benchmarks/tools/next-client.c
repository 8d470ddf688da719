/* next-client: the floor for the cold-init figure. It does the least a Lambda runtime must do
 * before it can take work (start, read AWS_LAMBDA_RUNTIME_API, connect, send
 * GET /runtime/invocation/next) and exits without waiting for the answer. The harness times it
 * exactly like the real `bootstrap`, exec to the server receiving that request, so
 * "bootstrap init ÷ this" is process start-up cost that is the bootstrap's own, not the
 * machine's. The host must be a numeric IPv4 address (the harness gives 127.0.0.1).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
    const char *endpoint = getenv("AWS_LAMBDA_RUNTIME_API");
    const char *colon = endpoint ? strrchr(endpoint, ':') : NULL;
    if (!colon || strlen(endpoint) > 63) { fprintf(stderr, "next-client: AWS_LAMBDA_RUNTIME_API is not host:port\n"); return 64; }
    char host[64];
    memcpy(host, endpoint, colon - endpoint);
    host[colon - endpoint] = '\0';
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(colon + 1))};
    if (inet_pton(AF_INET, host, &address.sin_addr) != 1) { fprintf(stderr, "next-client: %s is not IPv4\n", host); return 64; }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof address) != 0) { perror("next-client: connect"); return 69; }
    char request[160];
    int length = snprintf(request, sizeof request, "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: %s\r\n\r\n", endpoint);
    if (write(fd, request, length) != length) { perror("next-client: write"); return 74; }
    return 0;
}

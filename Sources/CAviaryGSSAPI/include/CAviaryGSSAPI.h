#ifndef AVIARY_GSSAPI_H
#define AVIARY_GSSAPI_H

#include <stddef.h>
#include <stdint.h>

/// The acceptor side of a Kerberos GSS-API security context, through the system's MIT
/// `libgssapi_krb5.so.2`, loaded when first asked for (so that the server builds and runs
/// without Kerberos headers or libraries; only a server configured for Kerberos needs them).
///
/// Functions returning int give 0 on success and -1 on failure, with a message in `error`
/// (at most `error_size` bytes, NUL-terminated). Output buffers are allocated with malloc and
/// released with `aviary_gss_free`.

/// Loads the library and names the keytab the acceptor takes its keys from
/// (`krb5_gss_register_acceptor_identity`); with a `principal` (`service/host@REALM`), only
/// tickets for that principal are accepted (NULL: any principal of the keytab). Call once,
/// before any context.
int aviary_gss_setup(const char *keytab, const char *principal, char *error, size_t error_size);

/// Feeds the client's token to the context (created on the first call, `*context` NULL);
/// `*output` gets the token for the client (possibly empty), `*complete` 1 once the context is
/// established.
int aviary_gss_accept(void **context, const uint8_t *input, size_t input_length,
                      uint8_t **output, size_t *output_length, int *complete, char *error, size_t error_size);

/// The established context's initiator (the client's principal, `client@REALM`).
int aviary_gss_peer(void *context, char *name, size_t name_size, char *error, size_t error_size);

/// The established context's acceptor (this server's principal, `zookeeper/host@REALM`).
int aviary_gss_target(void *context, char *name, size_t name_size, char *error, size_t error_size);

/// Integrity-only wrap (`gss_wrap` without confidentiality) and unwrap of a message.
int aviary_gss_wrap(void *context, const uint8_t *input, size_t input_length,
                    uint8_t **output, size_t *output_length, char *error, size_t error_size);
int aviary_gss_unwrap(void *context, const uint8_t *input, size_t input_length,
                      uint8_t **output, size_t *output_length, char *error, size_t error_size);

/// Deletes a context (NULL is fine).
void aviary_gss_release(void *context);

void aviary_gss_free(void *pointer);

#endif

// Kerberos GSS-API acceptor through a dlopen'd libgssapi_krb5: see CAviaryGSSAPI.h.
// The few GSS-API types used are declared here as RFC 2744 defines them for C.
#include "CAviaryGSSAPI.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint32_t OM_uint32;
typedef struct { size_t length; void *value; } gss_buffer_desc;
typedef struct { OM_uint32 length; void *elements; } gss_OID_desc;
typedef void *gss_ctx_id_t;
typedef void *gss_name_t;
typedef void *gss_cred_id_t;

#define GSS_S_COMPLETE 0u
#define GSS_S_CONTINUE_NEEDED 1u
#define GSS_ERROR(x) ((x) & 0xffff0000u)
#define GSS_C_GSS_CODE 1
#define GSS_C_MECH_CODE 2

typedef OM_uint32 (*accept_fn)(OM_uint32 *, gss_ctx_id_t *, gss_cred_id_t, gss_buffer_desc *, void *, gss_name_t *,
                               gss_OID_desc **, gss_buffer_desc *, OM_uint32 *, OM_uint32 *, gss_cred_id_t *);
typedef OM_uint32 (*inquire_fn)(OM_uint32 *, gss_ctx_id_t, gss_name_t *, gss_name_t *, OM_uint32 *, gss_OID_desc **,
                                OM_uint32 *, int *, int *);
typedef OM_uint32 (*display_name_fn)(OM_uint32 *, gss_name_t, gss_buffer_desc *, gss_OID_desc **);
typedef OM_uint32 (*wrap_fn)(OM_uint32 *, gss_ctx_id_t, int, OM_uint32, gss_buffer_desc *, int *, gss_buffer_desc *);
typedef OM_uint32 (*unwrap_fn)(OM_uint32 *, gss_ctx_id_t, gss_buffer_desc *, gss_buffer_desc *, int *, OM_uint32 *);
typedef OM_uint32 (*release_buffer_fn)(OM_uint32 *, gss_buffer_desc *);
typedef OM_uint32 (*release_name_fn)(OM_uint32 *, gss_name_t *);
typedef OM_uint32 (*delete_fn)(OM_uint32 *, gss_ctx_id_t *, gss_buffer_desc *);
typedef OM_uint32 (*display_status_fn)(OM_uint32 *, OM_uint32, int, gss_OID_desc *, OM_uint32 *, gss_buffer_desc *);
typedef OM_uint32 (*register_fn)(const char *);
typedef OM_uint32 (*import_name_fn)(OM_uint32 *, gss_buffer_desc *, gss_OID_desc *, gss_name_t *);
typedef OM_uint32 (*acquire_cred_fn)(OM_uint32 *, gss_name_t, OM_uint32, void *, int, gss_cred_id_t *, void **, OM_uint32 *);

static struct {
    accept_fn accept;
    inquire_fn inquire;
    display_name_fn display_name;
    wrap_fn wrap;
    unwrap_fn unwrap;
    release_buffer_fn release_buffer;
    release_name_fn release_name;
    delete_fn delete_context;
    display_status_fn display_status;
    register_fn register_identity;
    import_name_fn import_name;
    acquire_cred_fn acquire_cred;
} gss;
/// The acceptor's credentials when a principal was named (NULL: any key of the keytab).
static gss_cred_id_t acceptor = NULL;
/// GSS_KRB5_NT_PRINCIPAL_NAME (1.2.840.113554.1.2.2.1): a name written `service/host@REALM`.
static gss_OID_desc krb5_principal_name = {10, (void *)"\x2a\x86\x48\x86\xf7\x12\x01\x02\x02\x01"};
#define GSS_C_ACCEPT 2
#define GSS_C_INDEFINITE 0xffffffffu
static int loaded = 0;
static char load_error[256];
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void) {
    void *library = dlopen("libgssapi_krb5.so.2", RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        snprintf(load_error, sizeof load_error, "cannot load libgssapi_krb5.so.2 (Debian: libgssapi-krb5-2): %s", dlerror());
        return;
    }
#define SYMBOL(field, name)                                                                      \
    gss.field = (__typeof__(gss.field))dlsym(library, name);                                     \
    if (gss.field == NULL) {                                                                     \
        snprintf(load_error, sizeof load_error, "libgssapi_krb5.so.2 has no %s", name);          \
        return;                                                                                  \
    }
    SYMBOL(accept, "gss_accept_sec_context")
    SYMBOL(inquire, "gss_inquire_context")
    SYMBOL(display_name, "gss_display_name")
    SYMBOL(wrap, "gss_wrap")
    SYMBOL(unwrap, "gss_unwrap")
    SYMBOL(release_buffer, "gss_release_buffer")
    SYMBOL(release_name, "gss_release_name")
    SYMBOL(delete_context, "gss_delete_sec_context")
    SYMBOL(display_status, "gss_display_status")
    SYMBOL(register_identity, "krb5_gss_register_acceptor_identity")
    SYMBOL(import_name, "gss_import_name")
    SYMBOL(acquire_cred, "gss_acquire_cred")
#undef SYMBOL
    loaded = 1;
}

static void put(char *error, size_t size, const char *text) {
    if (error == NULL || size == 0) return;
    snprintf(error, size, "%s", text);
}

/// GSS-API's words for a failed call: the major status's, then the mechanism's (Kerberos).
static void describe(OM_uint32 major, OM_uint32 minor, char *error, size_t size) {
    char text[512] = "";
    size_t used = 0;
    for (int pass = 0; pass < 2; pass++) {
        OM_uint32 context = 0, status = pass == 0 ? major : minor;
        int type = pass == 0 ? GSS_C_GSS_CODE : GSS_C_MECH_CODE;
        if (pass == 1 && minor == 0) break;
        do {
            OM_uint32 ignored;
            gss_buffer_desc message = {0, NULL};
            if (GSS_ERROR(gss.display_status(&ignored, status, type, NULL, &context, &message))) break;
            int written = snprintf(text + used, sizeof text - used, "%s%.*s", used ? "; " : "", (int)message.length,
                                   (const char *)message.value);
            gss.release_buffer(&ignored, &message);
            if (written < 0 || (size_t)written >= sizeof text - used) { used = sizeof text - 1; break; }
            used += (size_t)written;
        } while (context != 0);
    }
    put(error, size, used ? text : "GSS-API failure");
}

static int copy_out(gss_buffer_desc *buffer, uint8_t **output, size_t *length, char *error, size_t size) {
    *length = buffer->length;
    *output = malloc(buffer->length > 0 ? buffer->length : 1);
    if (*output == NULL) {
        put(error, size, "out of memory");
        return -1;
    }
    if (buffer->length > 0) memcpy(*output, buffer->value, buffer->length);
    return 0;
}

/// Ends a call that produced `out`: its bytes copied to `*output`, or GSS-API's words for the
/// failure; `out` released either way.
static int finish(OM_uint32 major, OM_uint32 minor, gss_buffer_desc *out, uint8_t **output, size_t *length,
                  char *error, size_t size) {
    int result;
    if (GSS_ERROR(major)) {
        describe(major, minor, error, size);
        result = -1;
    } else {
        result = copy_out(out, output, length, error, size);
    }
    OM_uint32 ignored;
    if (out->value != NULL) gss.release_buffer(&ignored, out);
    return result;
}

int aviary_gss_setup(const char *keytab, const char *principal, char *error, size_t error_size) {
    pthread_once(&load_once, load);
    if (!loaded) {
        put(error, error_size, load_error);
        return -1;
    }
    if (keytab != NULL && gss.register_identity(keytab) != GSS_S_COMPLETE) {
        put(error, error_size, "cannot use the keytab");
        return -1;
    }
    if (principal == NULL) return 0;
    OM_uint32 minor = 0;
    gss_buffer_desc text = {strlen(principal), (void *)principal};
    gss_name_t name = NULL;
    OM_uint32 major = gss.import_name(&minor, &text, &krb5_principal_name, &name);
    if (GSS_ERROR(major)) {
        describe(major, minor, error, error_size);
        return -1;
    }
    gss_cred_id_t credentials = NULL;
    major = gss.acquire_cred(&minor, name, GSS_C_INDEFINITE, NULL, GSS_C_ACCEPT, &credentials, NULL, NULL);
    OM_uint32 ignored;
    gss.release_name(&ignored, &name);
    if (GSS_ERROR(major)) {
        describe(major, minor, error, error_size);
        return -1;
    }
    acceptor = credentials;
    return 0;
}

int aviary_gss_accept(void **context, const uint8_t *input, size_t input_length,
                      uint8_t **output, size_t *output_length, int *complete, char *error, size_t error_size) {
    if (!loaded) {
        put(error, error_size, "GSS-API is not set up");
        return -1;
    }
    OM_uint32 minor = 0;
    gss_buffer_desc in = {input_length, (void *)input};
    gss_buffer_desc out = {0, NULL};
    gss_ctx_id_t handle = (gss_ctx_id_t)*context;
    OM_uint32 major = gss.accept(&minor, &handle, acceptor, &in, NULL, NULL, NULL, &out, NULL, NULL, NULL);
    *context = handle;
    *complete = (major & GSS_S_CONTINUE_NEEDED) ? 0 : 1;
    return finish(major, minor, &out, output, output_length, error, error_size);
}

static int context_name(void *context, int initiator, char *name, size_t name_size, char *error, size_t error_size) {
    OM_uint32 minor = 0;
    gss_name_t source = NULL, target = NULL;
    OM_uint32 major = gss.inquire(&minor, (gss_ctx_id_t)context, &source, &target, NULL, NULL, NULL, NULL, NULL);
    if (GSS_ERROR(major)) {
        describe(major, minor, error, error_size);
        return -1;
    }
    gss_buffer_desc text = {0, NULL};
    major = gss.display_name(&minor, initiator ? source : target, &text, NULL);
    int result = -1;
    if (GSS_ERROR(major)) {
        describe(major, minor, error, error_size);
    } else {
        snprintf(name, name_size, "%.*s", (int)text.length, (const char *)text.value);
        gss.release_buffer(&minor, &text);
        result = 0;
    }
    if (source != NULL) gss.release_name(&minor, &source);
    if (target != NULL) gss.release_name(&minor, &target);
    return result;
}

int aviary_gss_peer(void *context, char *name, size_t name_size, char *error, size_t error_size) {
    return context_name(context, 1, name, name_size, error, error_size);
}

int aviary_gss_target(void *context, char *name, size_t name_size, char *error, size_t error_size) {
    return context_name(context, 0, name, name_size, error, error_size);
}

int aviary_gss_wrap(void *context, const uint8_t *input, size_t input_length,
                    uint8_t **output, size_t *output_length, char *error, size_t error_size) {
    OM_uint32 minor = 0;
    gss_buffer_desc in = {input_length, (void *)input};
    gss_buffer_desc out = {0, NULL};
    OM_uint32 major = gss.wrap(&minor, (gss_ctx_id_t)context, 0, 0, &in, NULL, &out);
    return finish(major, minor, &out, output, output_length, error, error_size);
}

int aviary_gss_unwrap(void *context, const uint8_t *input, size_t input_length,
                      uint8_t **output, size_t *output_length, char *error, size_t error_size) {
    OM_uint32 minor = 0;
    gss_buffer_desc in = {input_length, (void *)input};
    gss_buffer_desc out = {0, NULL};
    OM_uint32 major = gss.unwrap(&minor, (gss_ctx_id_t)context, &in, &out, NULL, NULL);
    return finish(major, minor, &out, output, output_length, error, error_size);
}

void aviary_gss_release(void *context) {
    if (context == NULL || !loaded) return;
    OM_uint32 minor = 0;
    gss_ctx_id_t handle = (gss_ctx_id_t)context;
    gss.delete_context(&minor, &handle, NULL);
}

void aviary_gss_free(void *pointer) { free(pointer); }

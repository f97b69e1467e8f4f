/* as_metadata.c - the proxy's own RFC 8414 authorization-server metadata (issuer = the
 * proxy's base URL), which the router serves. */
#include "proxy/proxy.h"

#include "engine/engine.h"
#include "proxy/proxy_impl.h"

json_t *mcp_proxy_as_metadata(const struct mcpauth_engine *e) {
    if (!e || !e->proxy_state) return NULL;
    const mcp_proxy *p = e->proxy_state;
    json_t *doc = json_object();
    json_t *scopes = mcp_strv_to_json(p->scopes), *grants = mcp_strv_to_json(p->grant_types);
    if (!doc || !scopes || !grants) goto fail;
    int bad = 0;
    bad |= json_object_set_new(doc, "issuer", json_string(p->issuer));
    bad |= json_object_set_new(doc, "authorization_endpoint", json_string(p->url_authorize));
    bad |= json_object_set_new(doc, "token_endpoint", json_string(p->url_token));
    bad |= json_object_set_new(doc, "registration_endpoint", json_string(p->url_register));
    bad |= json_object_set_new(doc, "scopes_supported", scopes);
    scopes = NULL;
    bad |= json_object_set_new(doc, "response_types_supported", json_pack("[s]", "code"));
    bad |= json_object_set_new(doc, "response_modes_supported", json_pack("[s]", "query"));
    bad |= json_object_set_new(doc, "grant_types_supported", grants);
    grants = NULL;
    bad |= json_object_set_new(doc, "code_challenge_methods_supported", json_pack("[s]", "S256"));
    bad |=
        json_object_set_new(doc, "token_endpoint_auth_methods_supported", json_pack("[s]", "none"));
    bad |= json_object_set_new(doc, "client_id_metadata_document_supported", json_true());
    bad |= json_object_set_new(doc, "authorization_response_iss_parameter_supported", json_true());
    if (bad) goto fail;
    return doc;
fail:
    json_decref(doc);
    json_decref(scopes);
    json_decref(grants);
    return NULL;
}

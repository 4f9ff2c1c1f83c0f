/* Personal key files: Argon2id-derived key, XChaCha20-Poly1305 over the secret keys. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "mp_b64.h"
#include "mp_keyfile.h"

#define SECRET_BYTES (64 + 32)
#define FILE_FORMAT "meldpunt-key-v1"

int
mp_role_ok(const char *role)
{
	return role != NULL &&
	    (strcmp(role, "caseworker") == 0 || strcmp(role, "auditor") == 0 ||
	        strcmp(role, "admin") == 0 || strcmp(role, "recovery") == 0);
}

static struct mp_identity *
identity_alloc(const char *name, const char *role)
{
	struct mp_identity *id;

	if (name == NULL || !mp_role_ok(role) || strlen(name) >= sizeof id->name)
		return NULL;
	if ((id = sodium_malloc(sizeof *id)) == NULL)
		return NULL;
	memset(id, 0, sizeof *id);
	memcpy(id->name, name, strlen(name) + 1);
	memcpy(id->role, role, strlen(role) + 1);
	return id;
}

struct mp_identity *
mp_identity_new(const char *name, const char *role)
{
	struct mp_identity *id = identity_alloc(name, role);

	if (id == NULL)
		return NULL;
	id->has_sign = strcmp(role, "recovery") != 0;
	if (id->has_sign)
		crypto_sign_keypair(id->sign_pk, id->sign_sk);
	crypto_box_keypair(id->box_pk, id->box_sk);
	return id;
}

void
mp_identity_free(struct mp_identity *id)
{
	if (id != NULL)
		sodium_free(id); /* wipes */
}

/* The public part, as a jansson object. */
static json_t *
bundle_object(const struct mp_identity *id)
{
	char sign[MP_B64U_LEN(32)], box[MP_B64U_LEN(32)];
	json_t *o;

	if (mp_b64u_encode(box, sizeof box, id->box_pk, 32) != 0)
		return NULL;
	o = json_pack("{s:s, s:s}", "name", id->name, "role", id->role);
	if (o != NULL && id->has_sign) {
		if (mp_b64u_encode(sign, sizeof sign, id->sign_pk, 32) != 0 ||
		    json_object_set_new(o, "sign", json_string(sign)) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	if (o != NULL && json_object_set_new(o, "box", json_string(box)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

char *
mp_identity_bundle(const struct mp_identity *id)
{
	json_t *o = bundle_object(id);
	char *s;

	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

static int
derive(uint8_t key[32], const char *pass, size_t passlen, const uint8_t *salt,
    unsigned long long ops, size_t mem)
{
	return crypto_pwhash(key, 32, pass, passlen, salt, ops, mem, crypto_pwhash_ALG_ARGON2ID13);
}

/* The additional data binds the public part and the KDF parameters to the ciphertext. */
static char *
keyfile_ad(const json_t *pub, unsigned long long ops, size_t mem)
{
	json_t *o = json_pack("{s:s, s:O, s:I, s:I}", "format", FILE_FORMAT, "public", pub, "ops",
	    (json_int_t)ops, "mem", (json_int_t)mem);
	char *s;

	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

char *
mp_keyfile_seal(const struct mp_identity *id, const char *pass, size_t passlen,
    unsigned long long opslimit, size_t memlimit)
{
	uint8_t key[32], salt[crypto_pwhash_SALTBYTES], nonce[24];
	uint8_t *secret = NULL;
	uint8_t ct[SECRET_BYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES];
	char salt_t[MP_B64U_LEN(sizeof salt)], nonce_t[MP_B64U_LEN(sizeof nonce)];
	char ct_t[MP_B64U_LEN(sizeof ct)];
	char *ad = NULL, *text = NULL;
	json_t *pub = NULL, *file = NULL;

	if (opslimit == 0)
		opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
	if (memlimit == 0)
		memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	if ((secret = sodium_malloc(SECRET_BYTES)) == NULL)
		goto out;
	memcpy(secret, id->sign_sk, 64);
	memcpy(secret + 64, id->box_sk, 32);
	randombytes_buf(salt, sizeof salt);
	randombytes_buf(nonce, sizeof nonce);
	if (derive(key, pass, passlen, salt, opslimit, memlimit) != 0)
		goto out;
	if ((pub = bundle_object(id)) == NULL || (ad = keyfile_ad(pub, opslimit, memlimit)) == NULL)
		goto out;
	crypto_aead_xchacha20poly1305_ietf_encrypt(
	    ct, NULL, secret, SECRET_BYTES, (const uint8_t *)ad, strlen(ad), NULL, nonce, key);
	if (mp_b64u_encode(salt_t, sizeof salt_t, salt, sizeof salt) != 0 ||
	    mp_b64u_encode(nonce_t, sizeof nonce_t, nonce, sizeof nonce) != 0 ||
	    mp_b64u_encode(ct_t, sizeof ct_t, ct, sizeof ct) != 0)
		goto out;
	file = json_pack("{s:s, s:O, s:{s:s, s:s, s:I, s:I}, s:s, s:s}", "format", FILE_FORMAT,
	    "public", pub, "kdf", "alg", "argon2id13", "salt", salt_t, "ops", (json_int_t)opslimit,
	    "mem", (json_int_t)memlimit, "nonce", nonce_t, "ct", ct_t);
	if (file != NULL)
		text = json_dumps(file, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
out:
	sodium_memzero(key, sizeof key);
	if (secret != NULL)
		sodium_free(secret);
	json_decref(pub);
	json_decref(file);
	free(ad);
	return text;
}

/* A string value, or "" for anything else. */
static const char *
str0(const json_t *v)
{
	return json_is_string(v) ? json_string_value(v) : "";
}

static int
get_b64u(uint8_t *out, size_t want, const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		return -1;
	return mp_b64u_decode_exact(out, want, json_string_value(v), json_string_length(v));
}

int
mp_keyfile_open(
    struct mp_identity **out, const char *text, size_t len, const char *pass, size_t passlen)
{
	uint8_t key[32], salt[crypto_pwhash_SALTBYTES], nonce[24];
	uint8_t ct[SECRET_BYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES];
	uint8_t *secret = NULL;
	json_t *file = NULL, *pub, *kdf;
	struct mp_identity *id = NULL;
	json_int_t ops, mem;
	char *ad = NULL;
	const char *role;
	int rc = -1;

	*out = NULL;
	if ((file = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		goto out;
	pub = json_object_get(file, "public");
	kdf = json_object_get(file, "kdf");
	if (strcmp(str0(json_object_get(file, "format")), FILE_FORMAT) != 0 ||
	    !json_is_object(pub) || !json_is_object(kdf))
		goto out;
	if (strcmp(str0(json_object_get(kdf, "alg")), "argon2id13") != 0)
		goto out;
	ops = json_integer_value(json_object_get(kdf, "ops"));
	mem = json_integer_value(json_object_get(kdf, "mem"));
	/* Bounded so that a damaged file cannot make the CLI hash for hours. */
	if (ops < (json_int_t)crypto_pwhash_OPSLIMIT_MIN || ops > 64 || mem < 8192 ||
	    mem > ((json_int_t)1 << 30))
		goto out;
	role = json_string_value(json_object_get(pub, "role"));
	if ((id = identity_alloc(json_string_value(json_object_get(pub, "name")), role)) == NULL)
		goto out;
	id->has_sign = strcmp(role, "recovery") != 0;
	if (get_b64u(salt, sizeof salt, kdf, "salt") != 0 ||
	    get_b64u(nonce, sizeof nonce, file, "nonce") != 0 ||
	    get_b64u(ct, sizeof ct, file, "ct") != 0 || get_b64u(id->box_pk, 32, pub, "box") != 0 ||
	    (id->has_sign && get_b64u(id->sign_pk, 32, pub, "sign") != 0))
		goto out;
	if ((ad = keyfile_ad(pub, (unsigned long long)ops, (size_t)mem)) == NULL)
		goto out;
	if ((secret = sodium_malloc(SECRET_BYTES)) == NULL)
		goto out;
	rc = -2;
	if (derive(key, pass, passlen, salt, (unsigned long long)ops, (size_t)mem) != 0)
		goto out;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(secret, NULL, NULL, ct, sizeof ct,
	        (const uint8_t *)ad, strlen(ad), nonce, key) != 0)
		goto out;
	memcpy(id->sign_sk, secret, 64);
	memcpy(id->box_sk, secret + 64, 32);
	{
		/* The secret keys must belong to the public ones the file shows. */
		uint8_t pk[32];
		crypto_scalarmult_base(pk, id->box_sk);
		if (sodium_memcmp(pk, id->box_pk, 32) != 0)
			goto out;
		if (id->has_sign && sodium_memcmp(id->sign_sk + 32, id->sign_pk, 32) != 0)
			goto out;
	}
	*out = id;
	id = NULL;
	rc = 0;
out:
	sodium_memzero(key, sizeof key);
	if (secret != NULL)
		sodium_free(secret);
	mp_identity_free(id);
	json_decref(file);
	free(ad);
	return rc;
}

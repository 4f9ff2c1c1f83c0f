/*
 * The error codes of API.md with their HTTP statuses, as the tests hold
 * the server to them (the API tests and the fuzz fixture), written once
 * here from the contract, apart from the server's own table.
 */
#ifndef TESTS_CONTRACT_ERRORS_H
#define TESTS_CONTRACT_ERRORS_H

#include <string.h>

/* The contract's status for an error code, or 0 when the code is not one of API.md's. */
static inline long
contract_error_status(const char *code)
{
	static const struct {
		const char *code;
		long status;
	} codes[] = {
		{ "invalid_json", 400 },
		{ "unknown_field", 400 },
		{ "missing_field", 400 },
		{ "invalid_field", 400 },
		{ "token_malformed", 400 },
		{ "unauthorized", 401 },
		{ "forbidden", 403 },
		{ "not_found", 404 },
		{ "token_unknown", 404 },
		{ "method_not_allowed", 405 },
		{ "conflict", 409 },
		{ "too_large", 413 },
		{ "unsupported_media_type", 415 },
		{ "rate_limited", 429 },
		{ "unavailable", 503 },
	};
	size_t i;

	for (i = 0; i < sizeof codes / sizeof codes[0]; i++)
		if (strcmp(codes[i].code, code) == 0)
			return codes[i].status;
	return 0;
}

#endif

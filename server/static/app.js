/*
 * Progressive enhancement only: every page works without this file.
 * - The receipt's print button appears and prints.
 * - The contact details follow the "contact me" choice (the style sheet
 *   does this too, where the browser knows :has()).
 * - A follow-up link from the QR code carries the token in its fragment,
 *   which browsers never send; it is moved into the form and posted, and
 *   the fragment is removed, so the token never appears in a URL the
 *   server sees nor stays in the address bar.
 * - An error summary takes the focus, so that it is read out first.
 * - During a flood of reports the report form carries a challenge; the
 *   proof of work for it is found before the form goes (docs/ABUSE.md).
 */
(function () {
	'use strict';

	var print = document.getElementById('print');
	if (print) {
		print.hidden = false;
		print.addEventListener('click', function () { window.print(); });
	}

	var fields = document.getElementById('contact-fields');
	var wants = document.getElementById('contact-contact');
	if (fields && wants) {
		var sync = function () { fields.hidden = !wants.checked; };
		var radios = document.querySelectorAll('input[name="contact"]');
		for (var i = 0; i < radios.length; i++)
			radios[i].addEventListener('change', sync);
		sync();
	}

	var form = document.getElementById('followup-form');
	var input = document.getElementById('token-input');
	if (form && input && location.hash.length > 1) {
		var token = '';
		try {
			token = decodeURIComponent(location.hash.slice(1));
		} catch (e) {
			token = '';
		}
		history.replaceState(null, '', location.pathname + location.search);
		if (/^[0-9A-Za-z -]{1,64}$/.test(token)) {
			input.value = token;
			form.submit();
		}
	}

	// The first `bits` bits of the hash are zero.
	var zeros = function (h, bits) {
		for (var i = 0; bits > 0; i++, bits -= 8) {
			if (bits >= 8 ? h[i] !== 0 : h[i] >> (8 - bits) !== 0)
				return false;
		}
		return true;
	};

	/*
	 * A nonce such that SHA-256(challenge + nonce) starts with bits zero
	 * bits.  A random start, so that two people given the same challenge
	 * in the same minute find different ones.  Hashes go in batches, and
	 * every 50 ms the page gets a turn of its own, so that a cheap phone
	 * stays responsive (a pause after every batch would cost more than the
	 * hashing: browsers make repeated short timers wait 4 ms).
	 */
	var solve = function (challenge, bits) {
		var subtle = window.crypto && window.crypto.subtle;
		var abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
		if (!subtle || !window.TextEncoder || !(bits > 0 && bits <= 32))
			return Promise.reject(new Error('no Web Crypto here'));
		var enc = new TextEncoder();
		var r = new Uint8Array(8);
		window.crypto.getRandomValues(r);
		var prefix = '';
		for (var i = 0; i < r.length; i++)
			prefix += abc.charAt(r[i] & 63);
		var n = 0;
		var until = Date.now() + 8 * 60 * 1000; // the challenge is good for 10 minutes
		var turn = Date.now();
		return new Promise(function (resolve, reject) {
			var batch = function () {
				var nonces = [];
				var hashes = [];
				for (var k = 0; k < 128; k++) {
					var nonce = prefix + (n++).toString(36);
					nonces.push(nonce);
					hashes.push(subtle.digest('SHA-256', enc.encode(challenge + nonce)));
				}
				Promise.all(hashes).then(function (done) {
					for (var j = 0; j < done.length; j++) {
						if (zeros(new Uint8Array(done[j]), bits)) {
							resolve(nonces[j]);
							return;
						}
					}
					if (Date.now() > until) {
						reject(new Error('took too long'));
					} else if (Date.now() - turn > 50) {
						turn = Date.now();
						setTimeout(batch, 0);
					} else {
						batch();
					}
				}, reject);
			};
			batch();
		});
	};

	var report = document.getElementById('report-form');
	var pow = document.getElementById('pow');
	var powStatus = document.getElementById('pow-status');
	if (report && pow && powStatus && pow.getAttribute('data-challenge')) {
		var solving = false;
		// The form's button is named "submit": it hides the form's own submit().
		var send = function () { HTMLFormElement.prototype.submit.call(report); };
		report.addEventListener('submit', function (ev) {
			if (pow.value)
				return;
			ev.preventDefault();
			if (solving)
				return;
			solving = true;
			var button = document.getElementById('submit');
			if (button)
				button.disabled = true;
			powStatus.textContent = powStatus.getAttribute('data-working');
			var challenge = pow.getAttribute('data-challenge');
			solve(challenge, Number(pow.getAttribute('data-bits'))).then(function (nonce) {
				pow.value = challenge + '.' + nonce;
				powStatus.textContent = powStatus.getAttribute('data-done');
				send();
			}, function () {
				// Without a proof the server still takes a few reports: try.
				powStatus.textContent = powStatus.getAttribute('data-failed');
				send();
			});
		});
	}

	var summary = document.getElementById('error-summary');
	if (summary)
		summary.focus();
})();

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

	var summary = document.getElementById('error-summary');
	if (summary)
		summary.focus();
})();

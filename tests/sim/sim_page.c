/* GET /chat: a self-contained page for the demo. Pick a chat id (a phone
 * number on WhatsApp), type as the family, press the bot's buttons, send a
 * photo or a PDF; the bot's messages appear as /control/sent returns them
 * (polled each second). The front end names the page and its chat field.
 * Every text goes onto the page with textContent, never as HTML, and the
 * Content-Security-Policy allows only this page's own script and style
 * (a fresh nonce per response) and fetches to this origin. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tests/sim/sim.h"

static const char page[] =
"<!doctype html>\n"
"<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
"<title>{{title}}</title>\n"
"<style nonce=\"{{nonce}}\">\n"
"body{font:15px/1.4 system-ui,sans-serif;margin:0;display:flex;flex-direction:column;height:100vh;background:#e7ebf0}\n"
"header{display:flex;flex-wrap:wrap;gap:.6em;align-items:center;padding:.6em;background:{{colour}};color:#fff}\n"
"header input{width:9em}\n"
"#log{flex:1;overflow-y:auto;padding:.8em;display:flex;flex-direction:column;gap:.5em}\n"
".msg{max-width:75%;padding:.4em .7em;border-radius:.7em;background:#fff;white-space:pre-wrap;word-wrap:break-word}\n"
".msg p{margin:0}.msg time{display:block;font-size:.75em;color:#777;text-align:right}\n"
".me{align-self:flex-end;background:#effdde}.bot{align-self:flex-start}\n"
".row{display:flex;gap:.3em;margin-top:.3em}.row button{flex:1}\n"
"form{display:flex;gap:.4em;padding:.6em;background:#fff}form input{flex:1;font:inherit;padding:.4em}\n"
"#status{font-size:.85em}\n"
"</style></head><body>\n"
"<header>\n"
"<label>{{label}} <input id=\"chat\" inputmode=\"numeric\" value=\"{{chat}}\"></label>\n"
"<label>Name <input id=\"name\" value=\"Amina\"></label>\n"
"<button id=\"photo\" type=\"button\">Send photo</button>\n"
"<button id=\"pdf\" type=\"button\">Send PDF</button>\n"
"<span id=\"status\" role=\"status\"></span>\n"
"</header>\n"
"<main id=\"log\" aria-live=\"polite\"></main>\n"
"<form id=\"form\"><input id=\"text\" autocomplete=\"off\" placeholder=\"Message\" aria-label=\"Message\">"
"<button>Send</button></form>\n"
"<script nonce=\"{{nonce}}\">\n"
"\"use strict\";\n"
"const $ = (id) => document.getElementById(id);\n"
"let mine = [], sent = [], lastKey = \"\";\n"
"function chatId() { const v = $(\"chat\").value.trim(); return /^-?[0-9]{1,15}$/.test(v) ? Number(v) : null; }\n"
"function status(t) { $(\"status\").textContent = t; }\n"
"async function post(path, body) {\n"
"  const r = await fetch(path, {method: \"POST\", headers: {\"Content-Type\": \"application/json\"},\n"
"                               body: JSON.stringify(body)});\n"
"  if (!r.ok) throw new Error(path + \": HTTP \" + r.status);\n"
"  return r.json();\n"
"}\n"
"function bubble(cls, text, at) {\n"
"  const d = document.createElement(\"div\"), p = document.createElement(\"p\"), t = document.createElement(\"time\");\n"
"  d.className = \"msg \" + cls;\n"
"  p.textContent = String(text);\n"
"  t.textContent = new Date(at).toLocaleTimeString();\n"
"  d.append(p, t);\n"
"  return d;\n"
"}\n"
"function botBubble(m) {\n"
"  const d = bubble(\"bot\", m.text, m.at_ms);\n"
"  const rm = m.reply_markup;\n"
"  const kb = rm && Array.isArray(rm.inline_keyboard) ? rm.inline_keyboard :\n"
"    Array.isArray(m.buttons) ? m.buttons.map((b) => [{text: b.title, callback_data: b.data}]) : [];\n"
"  for (const row of kb) {\n"
"    if (!Array.isArray(row)) continue;\n"
"    const r = document.createElement(\"div\");\n"
"    r.className = \"row\";\n"
"    for (const b of row) {\n"
"      if (!b || typeof b.text !== \"string\") continue;\n"
"      const btn = document.createElement(\"button\");\n"
"      btn.type = \"button\";\n"
"      btn.textContent = b.text;\n"
"      if (typeof b.callback_data === \"string\")\n"
"        btn.addEventListener(\"click\", () => press(m.message_id, b.callback_data, b.text));\n"
"      else\n"
"        btn.disabled = true;\n"
"      r.append(btn);\n"
"    }\n"
"    d.append(r);\n"
"  }\n"
"  return d;\n"
"}\n"
"function render() {\n"
"  const items = mine.map((m) => ({at: m.at, make: () => bubble(\"me\", m.text, m.at)}))\n"
"    .concat(sent.map((m) => ({at: m.at_ms, make: () => botBubble(m)})));\n"
"  items.sort((a, b) => a.at - b.at);\n"
"  const log = $(\"log\");\n"
"  log.replaceChildren(...items.map((i) => i.make()));\n"
"  log.scrollTop = log.scrollHeight;\n"
"}\n"
"async function act(path, body, echo) {\n"
"  const id = chatId();\n"
"  if (id === null) { status(\"chat id must be a number\"); return false; }\n"
"  body.chat_id = id;\n"
"  body.first_name = $(\"name\").value;\n"
"  try { await post(path, body); } catch (e) { status(e.message); return false; }\n"
"  mine.push({at: Date.now(), text: echo});\n"
"  render();\n"
"  return true;\n"
"}\n"
"function press(mid, data, label) { act(\"/control/button\", {data: data, message_id: mid}, \"[\" + label + \"]\"); }\n"
"async function poll() {\n"
"  const id = chatId();\n"
"  if (id !== null) {\n"
"    try {\n"
"      const r = await fetch(\"/control/sent?chat_id=\" + encodeURIComponent(String(id)), {cache: \"no-store\"});\n"
"      const j = await r.json();\n"
"      const list = j && Array.isArray(j.messages) ? j.messages : [];\n"
"      const key = id + \":\" + list.length + \":\" + (list.length ? list[list.length - 1].message_id : 0);\n"
"      if (key !== lastKey) { lastKey = key; sent = list; render(); }\n"
"      status(\"\");\n"
"    } catch (e) { status(\"simulator unreachable\"); }\n"
"  }\n"
"  setTimeout(poll, 1000);\n"
"}\n"
"$(\"form\").addEventListener(\"submit\", async (ev) => {\n"
"  ev.preventDefault();\n"
"  const text = $(\"text\").value;\n"
"  if (text.trim() === \"\") return;\n"
"  if (await act(\"/control/message\", {text: text}, text)) $(\"text\").value = \"\";\n"
"});\n"
"$(\"photo\").addEventListener(\"click\", () => act(\"/control/photo\", {bytes: 80000}, \"[photo]\"));\n"
"$(\"pdf\").addEventListener(\"click\", () => act(\"/control/document\", {kind: \"pdf\", bytes: 30000}, \"[PDF document]\"));\n"
"$(\"chat\").addEventListener(\"change\", () => { mine = []; sent = []; lastKey = \"\"; render(); });\n"
"poll();\n"
"</script>\n"
"</body></html>\n";

/* The page with every mark replaced; the caller frees it. The values
 * come from the front end's constants and this server's nonce. */
static char *render(const struct sim_page *pg, const char *nonce, size_t *len)
{
	const char *marks[][2] = {
		{"{{nonce}}", nonce}, {"{{title}}", pg->title}, {"{{label}}", pg->chat_label},
		{"{{chat}}", pg->chat_default}, {"{{colour}}", pg->colour},
	};
	size_t n = 0, cap = sizeof(page) + 1024, i, vlen, mlen;
	const char *p = page, *hit;
	char *out;

	if ((out = malloc(cap)) == NULL)
		return NULL;
	while ((hit = strstr(p, "{{")) != NULL) {
		for (i = 0; i < CB_ARRAY_SIZE(marks); i++)
			if (strncmp(hit, marks[i][0], strlen(marks[i][0])) == 0)
				break;
		mlen = i < CB_ARRAY_SIZE(marks) ? strlen(marks[i][0]) : 2;
		vlen = i < CB_ARRAY_SIZE(marks) ? strlen(marks[i][1]) : 2;
		if (n + (size_t)(hit - p) + vlen >= cap) {
			free(out);
			return NULL;
		}
		memcpy(out + n, p, (size_t)(hit - p));
		n += (size_t)(hit - p);
		memcpy(out + n, i < CB_ARRAY_SIZE(marks) ? marks[i][1] : hit, vlen);
		n += vlen;
		p = hit + mlen;
	}
	if (n + strlen(p) >= cap) {
		free(out);
		return NULL;
	}
	memcpy(out + n, p, strlen(p));
	n += strlen(p);
	*len = n;
	return out;
}

void sim_page_handle(struct http_server_req *req, const struct sim_page *pg)
{
	unsigned char raw[16];
	char nonce[sizeof(raw) * 2 + 1], csp[512], path[16], *body;
	size_t len = 0;

	if (sim_path(req->path, path, sizeof(path)) != 0 ||
	    (strcmp(path, "/chat") != 0 && strcmp(path, "/chat/") != 0)) {
		http_server_respond(req, 404, "text/plain", "not found\n", 10);
		return;
	}
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
		http_server_respond(req, 405, "text/plain", "use GET\n", 8);
		return;
	}
	if (uv_random(NULL, NULL, raw, sizeof(raw), 0, NULL) != 0) {
		http_server_respond(req, 500, "text/plain", "no randomness\n", 14);
		return;
	}
	sodium_bin2hex(nonce, sizeof(nonce), raw, sizeof(raw));
	if ((body = render(pg, nonce, &len)) == NULL) {
		http_server_respond(req, 500, "text/plain", "out of memory\n", 14);
		return;
	}
	snprintf(csp, sizeof(csp),
	         "default-src 'none'; script-src 'nonce-%s'; style-src 'nonce-%s'; "
	         "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
	         nonce, nonce);
	http_server_add_header(req, "Content-Security-Policy", csp);
	http_server_add_header(req, "X-Content-Type-Options", "nosniff");
	http_server_add_header(req, "Referrer-Policy", "no-referrer");
	http_server_add_header(req, "Cache-Control", "no-store");
	http_server_respond(req, 200, "text/html; charset=utf-8", body, len);
	free(body);
}

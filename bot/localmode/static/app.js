// 督办助手 local mode web chat: plays the local people against the local Bot API server.
// Everything goes through the server's control API (/control/...); nothing leaves this machine.
// Text from the bot is rendered from Telegram entities with DOM nodes (never innerHTML).
"use strict";

const ZONE = "Asia/Shanghai";
const MAX_TEXT = 4096; // Telegram's limit in UTF-16 code units: longer text is split, as the apps do
const MAX_CAPTION = 1024; // a longer caption goes out as a separate text message, as the apps do
const MAX_PHOTO_BYTES = 10 * 1024 * 1024; // a bigger photo is sent as a file, as the apps do
const MAX_UPLOAD_BYTES = 50 * 1024 * 1024; // what the local server accepts in one upload
const PRESS_WAIT_SECONDS = 15;

const state = {
  people: [],
  groups: [],
  person: null, // selected person (LocalPerson JSON)
  chatId: null,
  messages: new Map(), // message_id -> view, for the open chat
  replyTo: null, // message view being replied to
  unread: new Map(), // chat_id -> count of bot messages not seen
  lastSeq: 0,
  clock: null, // {serverMs, perfMs}
  commands: null,
  botName: "督办助手",
};

const $ = (id) => document.getElementById(id);

// -- small helpers ------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// This start's key: the server put it in the page; every request carries it in a header (the
// cookie set with the page only serves images, downloads and the event stream).
const KEY_HEADER = "X-Control-Key";
const CONTROL_KEY = (document.querySelector('meta[name="control-key"]') || {}).content || "";
const STALE_PAGE = "本页面属于本地模式的上一次启动（或地址缺少密钥）。请打开终端里 python -m bot 最新打印的地址。";

async function api(method, path, body) {
  const init = { method, headers: { [KEY_HEADER]: CONTROL_KEY } };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new Error("无法连接本地服务器（" + error.message + "）");
  }
  let data = null;
  try {
    data = await response.json();
  } catch (error) {
    if (response.status === 413) throw new Error("文件太大，本地服务器拒收（413）");
    throw new Error("本地服务器返回 " + response.status);
  }
  if (response.status === 401) throw new Error(STALE_PAGE);
  if (!data.ok) {
    const err = new Error(data.error || data.description || "请求失败");
    err.status = response.status;
    throw err;
  }
  return data.result;
}

const ERROR_WORDS = {
  "text is empty": "消息为空，没有发送。请输入文字或命令。",
  "file is empty": "文件是空的（0 字节），没有发送。",
  "photo bytes are not a PNG, JPEG, GIF or WebP image": "这不是 PNG、JPEG、GIF 或 WebP 图片，请改用“发送文件”。",
};

function explain(error) {
  const text = String(error.message || error);
  return ERROR_WORDS[text] ? ERROR_WORDS[text] + "（" + text + "）" : text;
}

function toast(text, { alert = false, kind = "" } = {}) {
  const node = el("div", { class: "toast " + kind + (alert ? " alert" : ""), role: "status" });
  node.append(el("span", { text }));
  if (alert) {
    node.append(el("button", { type: "button", text: "确定", onclick: () => node.remove() }));
  } else {
    setTimeout(() => node.remove(), 4000);
  }
  $("toasts").append(node);
}

function notice(text, kind = "error") {
  const node = el("div", { class: "notice " + kind, role: "alert", text });
  $("messages").append(node);
  scrollToEnd(true);
}

const dateFormat = new Intl.DateTimeFormat("zh-CN", {
  timeZone: ZONE, year: "numeric", month: "long", day: "numeric", weekday: "short",
});
const timeFormat = new Intl.DateTimeFormat("zh-CN", {
  timeZone: ZONE, hour: "2-digit", minute: "2-digit", hour12: false,
});
const clockFormat = new Intl.DateTimeFormat("zh-CN", {
  timeZone: ZONE, year: "numeric", month: "2-digit", day: "2-digit", weekday: "short",
  hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
});

function utf16Chunks(text, size) {
  // JavaScript strings are UTF-16: slice by code units but never split a surrogate pair
  const parts = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + size, text.length);
    if (end < text.length && /[\uD800-\uDBFF]/.test(text[end - 1])) end -= 1;
    parts.push(text.slice(start, end));
    start = end;
  }
  return parts;
}

function humanSize(bytes) {
  if (bytes < 1024) return bytes + " B";
  if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KB";
  return (bytes / 1024 / 1024).toFixed(1) + " MB";
}

// -- rendering Telegram entities ----------------------------------------------------------

const SAFE_URL = /^(https?:|mailto:|tg:)/i;

function entityNode(entity, text) {
  switch (entity.type) {
    case "bold": return el("b");
    case "italic": return el("i");
    case "underline": return el("u");
    case "strikethrough": return el("s");
    case "spoiler": return el("span", { class: "spoiler", title: "点击显示", onclick: (e) => e.currentTarget.classList.add("shown") });
    case "code": return el("code");
    case "pre": return el("pre", { class: entity.language ? "lang-" + entity.language : null });
    case "blockquote":
    case "expandable_blockquote": return el("blockquote");
    case "text_link": return link(entity.url);
    case "url": return link(/^[a-z]+:/i.test(text) ? text : "http://" + text);
    case "email": return link("mailto:" + text);
    case "bot_command":
      return el("a", { href: "#", class: "command", title: "发送 " + text, onclick: (e) => { e.preventDefault(); sendText(text.split("@")[0]); } });
    case "mention":
    case "hashtag":
    case "cashtag":
    case "text_mention":
      return el("span", { class: "mention" });
    default: return null; // phone_number, custom_emoji… shown as plain text
  }
}

function link(url) {
  if (!SAFE_URL.test(url || "")) return el("span", { class: "bad-link", title: url || "" });
  return el("a", { href: url, target: "_blank", rel: "noopener noreferrer" });
}

function renderEntities(text, entities) {
  // Split at every entity boundary; wrap each piece in the entities covering it, outermost
  // (earliest, longest) first. Works for nested and for overlapping entities alike.
  const fragment = document.createDocumentFragment();
  const list = (entities || []).filter((e) => e.length > 0)
    .map((e, i) => ({ ...e, end: e.offset + e.length, order: i }))
    .sort((a, b) => a.offset - b.offset || b.length - a.length || a.order - b.order);
  const cuts = new Set([0, text.length]);
  for (const e of list) { cuts.add(Math.min(e.offset, text.length)); cuts.add(Math.min(e.end, text.length)); }
  const points = [...cuts].sort((a, b) => a - b);
  let open = []; // [{entity, node}] currently open chain
  for (let i = 0; i < points.length - 1; i++) {
    const start = points[i], end = points[i + 1];
    const piece = text.slice(start, end);
    const covering = list.filter((e) => e.offset <= start && e.end >= end);
    // keep the open chain while it is a prefix of the covering list
    let keep = 0;
    while (keep < open.length && keep < covering.length && open[keep].entity === covering[keep]) keep++;
    open = open.slice(0, keep);
    let parent = open.length ? open[open.length - 1].node : fragment;
    for (const entity of covering.slice(keep)) {
      const node = entityNode(entity, text.slice(entity.offset, entity.end)) || el("span");
      parent.append(node);
      open.push({ entity, node });
      parent = node;
    }
    parent.append(document.createTextNode(piece));
  }
  return fragment;
}

// -- people and chats ---------------------------------------------------------------------

function initials(name) {
  return name ? name.slice(-2) : "?";
}

function renderPeople() {
  const list = $("people");
  list.replaceChildren();
  for (const person of state.people) {
    const unread = chatsOf(person).reduce((n, c) => n + (state.unread.get(c.id) || 0), 0);
    const item = el("li", {},
      el("button", {
        type: "button",
        class: "person" + (state.person && state.person.id === person.id ? " active" : ""),
        dataset: { personId: person.id, role: person.role },
        onclick: () => selectPerson(person.id),
      },
      el("span", { class: "avatar role-" + person.role, text: initials(person.name) }),
      el("span", { class: "person-text" },
        el("span", { class: "person-name" }, person.name,
          el("span", { class: "role-tag role-" + person.role, text: person.role_label })),
        el("span", { class: "person-unit", text: person.unit_label, title: person.unit_label })),
      unread ? el("span", { class: "unread", text: String(unread) }) : null));
    list.append(item);
  }
}

function chatsOf(person) {
  const chats = [{ id: person.id, title: state.botName, subtitle: "私聊", type: "private" }];
  for (const group of state.groups) {
    if (group.member_ids.includes(person.id)) {
      chats.push({ id: group.id, title: group.title, subtitle: "群聊 · " + group.member_ids.length + " 人", type: "group" });
    }
  }
  return chats;
}

function renderChats() {
  const list = $("chats");
  list.replaceChildren();
  if (!state.person) return;
  for (const chat of chatsOf(state.person)) {
    const unread = state.unread.get(chat.id) || 0;
    list.append(el("li", {}, el("button", {
      type: "button",
      class: "chat-item" + (chat.id === state.chatId ? " active" : ""),
      dataset: { chatId: chat.id },
      onclick: () => selectChat(chat.id),
    },
    el("span", { class: "chat-icon" + (chat.type === "private" ? " bot" : ""), text: chat.type === "private" ? "督" : "群" }),
    el("span", { class: "person-text" },
      el("span", { class: "person-name", text: chat.title }),
      el("span", { class: "person-unit", text: chat.subtitle })),
    unread ? el("span", { class: "unread", text: String(unread) }) : null)));
  }
}

async function selectPerson(personId) {
  const person = state.people.find((p) => p.id === personId);
  if (!person) return;
  state.person = person;
  history.replaceState(null, "", "#person=" + person.id);
  await selectChat(person.id);
}

// On a phone the people list is an overlay (style.css): opened from the chat's head, closed
// by picking someone, a chat, or tapping beside it.
function setPeopleOpen(open) {
  document.body.classList.toggle("people-open", open);
  $("people-toggle").setAttribute("aria-expanded", open ? "true" : "false");
  $("scrim").hidden = !open;
}

async function selectChat(chatId) {
  setPeopleOpen(false);
  state.chatId = chatId;
  state.unread.delete(chatId);
  cancelReply();
  renderPeople();
  renderChats();
  const chat = chatsOf(state.person).find((c) => c.id === chatId);
  $("chat-title").textContent = chat ? chat.title : "";
  $("chat-sub").textContent = state.person.name + " · " + state.person.role_label + " · " + state.person.unit_label;
  $("chat").dataset.chatId = chatId;
  $("chat").dataset.personId = state.person.id;
  $("commands").hidden = true;
  await loadMessages();
  await loadReplyKeyboard();
  $("text").focus();
}

async function loadMessages() {
  const chatId = state.chatId;
  const box = $("messages");
  box.replaceChildren();
  state.messages.clear();
  let views;
  try {
    views = await api("GET", "/control/chats/" + chatId + "/messages");
  } catch (error) {
    notice("读取消息失败：" + explain(error));
    return;
  }
  if (chatId !== state.chatId) return;
  if (!views.length) {
    const hint = chatId < 0
      ? "还没有消息。本群已订阅督办周报：把时钟拨到“下周一 09:00”看看。"
      : "还没有消息。发送 /help 看看能做什么，或把时钟拨到 09:00 等提醒到来。";
    box.append(el("div", { class: "empty", text: hint }));
  }
  for (const view of views) putMessage(view);
  scrollToEnd(true);
}

async function loadReplyKeyboard() {
  const bar = $("reply-keyboard");
  bar.replaceChildren();
  bar.hidden = true;
  try {
    const chat = await api("GET", "/control/chats/" + state.chatId);
    renderReplyKeyboard(chat.reply_keyboard);
  } catch (error) { /* no keyboard */ }
}

function renderReplyKeyboard(markup) {
  const bar = $("reply-keyboard");
  bar.replaceChildren();
  const rows = (markup && markup.keyboard) || [];
  bar.hidden = rows.length === 0;
  for (const row of rows) {
    bar.append(el("div", { class: "kb-row" }, row.map((button) => {
      const label = typeof button === "string" ? button : button.text;
      return el("button", { type: "button", text: label, onclick: () => sendText(label) });
    })));
  }
}

// -- messages -----------------------------------------------------------------------------

function senderName(view) {
  if (view.from_bot) return state.botName;
  const person = state.people.find((p) => p.id === view.sender_id);
  return person ? person.name : (view.message.from && view.message.from.first_name) || "?";
}

function snippet(message) {
  if (!message) return "";
  if (message.text) return message.text.slice(0, 80);
  if (message.document) return "📎 " + (message.document.file_name || "文件");
  if (message.photo) return "🖼 图片" + (message.caption ? "：" + message.caption.slice(0, 60) : "");
  return "";
}

function dayKey(epoch) {
  return dateFormat.format(new Date(epoch * 1000));
}

function putMessage(view) {
  const box = $("messages");
  const empty = box.querySelector(".empty");
  if (empty) empty.remove();
  const existing = box.querySelector('[data-message-id="' + view.message_id + '"]');
  const node = renderMessage(view);
  state.messages.set(view.message_id, view);
  if (existing) {
    existing.replaceWith(node);
    return;
  }
  const last = [...box.querySelectorAll(".msg")].pop();
  const lastView = last ? state.messages.get(Number(last.dataset.messageId)) : null;
  if (!lastView || dayKey(lastView.message.date) !== dayKey(view.message.date)) {
    box.append(el("div", { class: "day", text: dayKey(view.message.date) }));
  }
  box.append(node);
}

function renderMessage(view) {
  const m = view.message;
  const mine = !view.from_bot && state.person && view.sender_id === state.person.id;
  const kind = view.from_bot ? "bot" : mine ? "me" : "other";
  const node = el("div", {
    class: "msg " + kind + (view.deleted ? " deleted" : ""),
    dataset: { messageId: view.message_id, fromBot: view.from_bot ? "1" : "0", version: view.version },
  });
  const bubble = el("div", { class: "bubble" });
  if (kind !== "me") bubble.append(el("div", { class: "sender", text: senderName(view) }));
  if (m.reply_to_message) {
    const target = m.reply_to_message;
    bubble.append(el("div", {
      class: "quote",
      onclick: () => {
        const t = $("messages").querySelector('[data-message-id="' + target.message_id + '"]');
        if (t) { t.scrollIntoView({ block: "center" }); t.classList.add("flash"); setTimeout(() => t.classList.remove("flash"), 1200); }
      },
    }, el("span", { class: "quote-name", text: target.from && target.from.is_bot ? state.botName : (target.from && target.from.first_name) || "" }),
    el("span", { class: "quote-text", text: snippet(target) })));
  }
  if (view.deleted) {
    bubble.append(el("div", { class: "text muted", text: "（消息已删除）" }));
    node.append(bubble);
    return node;
  }
  if (m.photo && m.photo.length) {
    const largest = m.photo[m.photo.length - 1];
    const src = "/control/files/" + encodeURIComponent(largest.file_id);
    // a click enlarges the picture in the page, as the Telegram apps do (a scorecard is tall)
    bubble.append(el("a", {
      href: src, target: "_blank", class: "photo", title: "点击放大",
      onclick: (e) => { e.preventDefault(); openLightbox(src, m.caption || "图片"); },
    }, el("img", { src, alt: m.caption ? m.caption.slice(0, 80) : "图片", loading: "lazy" })));
  }
  if (m.document) {
    const d = m.document;
    bubble.append(el("a", {
      class: "document",
      href: "/control/files/" + encodeURIComponent(d.file_id),
      download: d.file_name || "file",
      dataset: { fileName: d.file_name || "" },
      title: "下载 " + (d.file_name || "文件"),
    },
    el("span", { class: "doc-icon", text: /\.xlsx?$/i.test(d.file_name || "") ? "📊" : "📄" }),
    el("span", { class: "doc-text" },
      el("span", { class: "doc-name", text: d.file_name || "文件" }),
      el("span", { class: "doc-size", text: humanSize(d.file_size || 0) + " · 点击下载" }))));
  }
  const text = m.text !== undefined ? m.text : m.caption;
  const entities = m.text !== undefined ? m.entities : m.caption_entities;
  if (text) {
    const body = el("div", { class: "text" });
    body.append(renderEntities(text, entities));
    bubble.append(body);
  }
  const rows = (m.reply_markup && m.reply_markup.inline_keyboard) || [];
  if (rows.length) {
    const keyboard = el("div", { class: "inline-keyboard" });
    for (const row of rows) {
      keyboard.append(el("div", { class: "kb-row" }, row.map((button) => inlineButton(view, button))));
    }
    bubble.append(keyboard);
  }
  const meta = el("div", { class: "meta" },
    m.edit_date ? el("span", { class: "edited", text: "已编辑" }) : null,
    el("span", { class: "time", text: timeFormat.format(new Date(m.date * 1000)), title: clockFormat.format(new Date(m.date * 1000)) }));
  if (!mine) {
    meta.prepend(el("button", { type: "button", class: "reply-action", text: "回复", title: "回复这条消息", onclick: () => startReply(view) }));
  }
  bubble.append(meta);
  node.append(bubble);
  return node;
}

// -- a photo, enlarged ------------------------------------------------------------------------

function closeLightbox() {
  const open = $("lightbox");
  if (open) open.remove();
  document.removeEventListener("keydown", lightboxKey);
}

function lightboxKey(e) {
  if (e.key === "Escape") closeLightbox();
}

function openLightbox(src, alt) {
  closeLightbox();
  const overlay = el("div", { id: "lightbox", class: "lightbox", role: "dialog", "aria-label": "图片（点击关闭）", onclick: closeLightbox },
    el("img", { src, alt }));
  document.body.append(overlay);
  document.addEventListener("keydown", lightboxKey);
}

function inlineButton(view, button) {
  if (button.callback_data !== undefined) {
    return el("button", {
      type: "button", class: "ik", text: button.text, dataset: { callback: button.callback_data },
      onclick: (e) => press(view, button, e.currentTarget),
    });
  }
  if (button.url) {
    const a = link(button.url);
    a.className = "ik";
    a.textContent = button.text + " ↗";
    return a;
  }
  if (button.copy_text) {
    return el("button", { type: "button", class: "ik", text: button.text, onclick: () => {
      navigator.clipboard && navigator.clipboard.writeText(button.copy_text.text);
      toast("已复制");
    } });
  }
  return el("button", { type: "button", class: "ik", text: button.text, disabled: true, title: "本地模式不支持这种按钮" });
}

async function press(view, button, node) {
  node.classList.add("pressing");
  node.disabled = true;
  try {
    const result = await api("POST", "/control/users/" + state.person.id + "/press", {
      chat_id: state.chatId, message_id: view.message_id, callback_data: button.callback_data,
      wait_answer: PRESS_WAIT_SECONDS,
    });
    const answer = result.answer || {};
    if (answer.text) toast(answer.text, { alert: !!answer.show_alert });
    if (answer.url) toast("机器人给了链接：" + answer.url);
  } catch (error) {
    toast(error.status === 408 ? "机器人没有回应这个按钮（" + PRESS_WAIT_SECONDS + " 秒）" : "按钮失败：" + explain(error), { kind: "error" });
  } finally {
    node.classList.remove("pressing");
    node.disabled = false;
  }
}

function nearEnd() {
  const box = $("messages");
  return box.scrollHeight - box.scrollTop - box.clientHeight < 160;
}

function scrollToEnd(force) {
  const box = $("messages");
  if (force || nearEnd()) box.scrollTop = box.scrollHeight;
}

// -- replying and sending -----------------------------------------------------------------

function startReply(view) {
  state.replyTo = view;
  $("reply-bar-snippet").textContent = senderName(view) + "：" + snippet(view.message);
  $("reply-bar").hidden = false;
  $("text").focus();
}

function cancelReply() {
  state.replyTo = null;
  $("reply-bar").hidden = true;
}

async function sendText(text) {
  if (!state.person) { toast("请先在左侧选择身份", { kind: "error" }); return false; }
  const parts = text.trim() === "" ? [text] : utf16Chunks(text, MAX_TEXT);
  if (parts.length > 1) {
    notice("消息有 " + text.length + " 个字符，超过 Telegram 单条 4096 的上限，已像 Telegram 一样拆成 " + parts.length + " 条发送。", "info");
  }
  const replyTo = state.replyTo;
  cancelReply();
  for (let i = 0; i < parts.length; i++) {
    try {
      const view = await api("POST", "/control/users/" + state.person.id + "/messages", {
        text: parts[i], chat_id: state.chatId,
        reply_to_message_id: i === 0 && replyTo ? replyTo.message_id : null,
      });
      if (view.chat_id === state.chatId) putMessage(view);
      scrollToEnd(true);
    } catch (error) {
      notice("未发送：" + explain(error));
      return false;
    }
  }
  return true;
}

async function sendFile(file, kind) {
  if (!state.person) { toast("请先在左侧选择身份", { kind: "error" }); return; }
  if (file.size > MAX_UPLOAD_BYTES) {
    notice("未发送：文件 " + file.name + " 有 " + humanSize(file.size) + "，超过本地模式单个文件 " + humanSize(MAX_UPLOAD_BYTES) + " 的上限。");
    return;
  }
  if (kind === "photo" && file.size > MAX_PHOTO_BYTES) {
    notice("图片超过 10 MB，已像 Telegram 一样改为以文件发送。", "info");
    kind = "document";
  }
  let caption = $("text").value;
  let extraText = "";
  if (caption.length > MAX_CAPTION) { extraText = caption; caption = ""; }
  const form = new FormData();
  form.append("kind", kind);
  form.append("chat_id", String(state.chatId));
  if (caption.trim()) form.append("caption", caption);
  if (state.replyTo) form.append("reply_to_message_id", String(state.replyTo.message_id));
  form.append("file_name", file.name);
  form.append("mime_type", file.type || "application/octet-stream");
  form.append("file", file, file.name);
  const pending = el("div", { class: "notice info", text: "正在上传 " + file.name + "（" + humanSize(file.size) + "）…" });
  $("messages").append(pending);
  scrollToEnd(true);
  try {
    const view = await api("POST", "/control/users/" + state.person.id + "/files", form);
    pending.remove();
    if (view.chat_id === state.chatId) putMessage(view);
    $("text").value = "";
    autoGrow();
    cancelReply();
    if (extraText) await sendText(extraText);
    scrollToEnd(true);
  } catch (error) {
    pending.remove();
    notice("未发送 " + file.name + "：" + explain(error));
  }
}

function autoGrow() {
  const area = $("text");
  area.style.height = "auto";
  area.style.height = Math.min(area.scrollHeight, 180) + "px";
  area.style.overflowY = area.scrollHeight > 180 ? "auto" : "hidden";
}

// -- bot commands menu --------------------------------------------------------------------

async function toggleCommands() {
  const box = $("commands");
  if (!box.hidden) { box.hidden = true; return; }
  box.replaceChildren();
  try {
    const info = await api("GET", "/control/bot");
    const pick = (scopeType, lang) => info.commands.find((c) =>
      c.scope.type === scopeType && (scopeType !== "chat" || Number(c.scope.chat_id) === state.chatId) && c.language_code === lang);
    const found = pick("chat", "zh") || pick("chat", "") || pick("all_private_chats", "zh") ||
      pick("default", "zh") || pick("all_private_chats", "") || pick("default", "");
    const commands = found ? found.commands : [];
    if (!commands.length) box.append(el("div", { class: "muted", text: "机器人还没有登记命令，试试 /help。" }));
    for (const c of commands) {
      box.append(el("button", { type: "button", class: "cmd", onclick: () => {
        $("text").value = "/" + c.command + " ";
        box.hidden = true;
        $("text").focus();
      } }, el("code", { text: "/" + c.command }), el("span", { text: c.description })));
    }
  } catch (error) {
    box.append(el("div", { class: "muted", text: "读取命令失败：" + explain(error) }));
  }
  box.hidden = false;
}

// -- the clock ----------------------------------------------------------------------------

function setClock(view) {
  state.clock = { serverMs: Date.parse(view.now), perfMs: performance.now(), view };
  $("clock").dataset.now = view.now;
  $("clock").dataset.local = view.local;
  $("clock-zone").textContent = "北京时间 · " + (view.working_day ? "工作日" : "休息日");
  tickClock();
}

function clockNow() {
  if (!state.clock) return null;
  return new Date(state.clock.serverMs + (performance.now() - state.clock.perfMs));
}

function clockText(date) {
  const p = Object.fromEntries(clockFormat.formatToParts(date).map((x) => [x.type, x.value]));
  return p.year + "年" + p.month + "月" + p.day + "日 " + p.weekday + " " + p.hour + ":" + p.minute + ":" + p.second;
}

function tickClock() {
  const now = clockNow();
  if (now) $("clock-time").textContent = clockText(now);
}

async function moveClock(body, button) {
  const buttons = document.querySelectorAll(".clock-buttons button");
  buttons.forEach((b) => { b.disabled = true; });
  try {
    const view = await api("POST", "/control/clock", body);
    setClock(view);
    toast("时钟已拨到 " + clockText(new Date(view.now)));
  } catch (error) {
    toast("无法拨动时钟：" + explain(error), { kind: "error" });
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
    if (button) button.blur();
  }
}

// -- live events --------------------------------------------------------------------------

function onEvent(event) {
  if (event.seq) state.lastSeq = Math.max(state.lastSeq, event.seq);
  switch (event.type) {
    case "message":
    case "edit": {
      const view = event.message;
      if (event.chat_id === state.chatId) {
        if (event.type === "message" || state.messages.has(view.message_id)) {
          const follow = nearEnd(); // decided before the new message makes the list taller
          putMessage(view);
          if (event.type === "message" && (follow || !view.from_bot)) scrollToEnd(true);
        }
      } else if (event.type === "message" && view.from_bot) {
        state.unread.set(event.chat_id, (state.unread.get(event.chat_id) || 0) + 1);
        renderPeople();
        renderChats();
      }
      break;
    }
    case "delete":
      if (event.chat_id === state.chatId && state.messages.has(event.message_id)) {
        putMessage({ ...state.messages.get(event.message_id), deleted: true });
      }
      break;
    case "chat":
      if (event.chat && event.chat.id === state.chatId) renderReplyKeyboard(event.chat.reply_keyboard);
      break;
    case "clock":
      if (event.clock) setClock(event.clock);
      break;
    case "reset":
      location.reload();
      break;
    default:
      break;
  }
}

function listen() {
  const source = new EventSource("/control/events/stream?after=" + state.lastSeq);
  const kinds = ["message", "edit", "delete", "chat", "clock", "reset", "user", "callback_query", "callback_answer"];
  for (const kind of kinds) {
    source.addEventListener(kind, (e) => {
      try { onEvent(JSON.parse(e.data)); } catch (error) { console.error(error); }
    });
  }
  source.onopen = () => document.body.classList.remove("offline");
  source.onerror = () => document.body.classList.add("offline");
}

// -- start --------------------------------------------------------------------------------

async function start() {
  // the printed address carries ?key=: keep it out of the address bar and the history
  if (new URLSearchParams(location.search).has("key")) {
    history.replaceState(null, "", location.pathname + location.hash);
  }
  $("composer").addEventListener("submit", async (e) => {
    e.preventDefault();
    const area = $("text");
    const text = area.value;
    const ok = await sendText(text);
    if (ok) { area.value = ""; autoGrow(); }
  });
  $("text").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("text").addEventListener("input", autoGrow);
  $("reply-cancel").addEventListener("click", cancelReply);
  $("commands-toggle").addEventListener("click", toggleCommands);
  $("people-toggle").addEventListener("click", () => setPeopleOpen(!document.body.classList.contains("people-open")));
  $("scrim").addEventListener("click", () => setPeopleOpen(false));
  $("photo-input").addEventListener("change", (e) => { const f = e.target.files[0]; e.target.value = ""; if (f) sendFile(f, "photo"); });
  $("document-input").addEventListener("change", (e) => { const f = e.target.files[0]; e.target.value = ""; if (f) sendFile(f, "document"); });
  for (const button of document.querySelectorAll(".clock-buttons button")) {
    button.addEventListener("click", () => {
      const body = button.dataset.advance ? { advance: Number(button.dataset.advance) } : { next: button.dataset.next };
      moveClock(body, button);
    });
  }
  setInterval(tickClock, 1000);

  const local = await api("GET", "/control/local");
  state.people = local.people;
  state.groups = local.groups;
  state.botName = local.bot_name || state.botName;
  state.lastSeq = local.last_event_seq || 0;
  setClock(local.clock);
  listen();
  renderPeople();
  const wanted = Number((location.hash.match(/person=(\d+)/) || [])[1]);
  const first = state.people.find((p) => p.id === wanted) || state.people[0];
  if (first) await selectPerson(first.id);
  document.body.dataset.ready = "1";
}

document.addEventListener("DOMContentLoaded", () => {
  start().catch((error) => {
    document.body.dataset.ready = "error";
    toast("本地模式没有就绪：" + explain(error), { alert: true, kind: "error" });
  });
});

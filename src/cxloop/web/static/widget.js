/* cxloop survey widget. Embed:
   <script src="https://CXLOOP/widget.js" data-key="cxw_..." async></script>
   Optional: data-user-id, data-lang. Events: cxloop("track", "Order Completed"),
   cxloop("identify", "user-17"); analytics.js track calls are followed too. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.getAttribute("data-key")) { return; }
  var key = script.getAttribute("data-key");
  var base = new URL(script.src, location.href).origin;
  var queued = (window.cxloop && window.cxloop.q) || [];
  var ANON = "ajs_anonymous_id", USER = "ajs_user_id";

  function readStored(name) {
    var value = null;
    try { value = localStorage.getItem(name); } catch (e) { value = null; }
    if (!value) {
      var m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
      value = m ? decodeURIComponent(m[1]) : null;
    }
    if (!value) { return null; }
    try { var parsed = JSON.parse(value); return typeof parsed === "string" ? parsed : value; }
    catch (e) { return value; }
  }
  function anonymousId() {
    var id = readStored(ANON);
    if (id) { return id; }
    id = (window.crypto && crypto.randomUUID) ? crypto.randomUUID()
      : "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, function (c) {
          var r = Math.random() * 16 | 0; return (c === "x" ? r : (r & 3 | 8)).toString(16); });
    try { localStorage.setItem(ANON, JSON.stringify(id)); } catch (e) { /* private mode */ }
    document.cookie = ANON + "=" + encodeURIComponent(JSON.stringify(id)) + "; path=/; max-age=31536000; SameSite=Lax";
    return id;
  }
  var userId = script.getAttribute("data-user-id") || readStored(USER);
  var snoozeKey = "cxloop_snooze_" + key;

  function snoozed(days) {
    var until = 0;
    try { until = parseInt(localStorage.getItem(snoozeKey) || "0", 10); } catch (e) { until = 0; }
    return days > 0 && until > Date.now();
  }
  function snooze(days) {
    try { localStorage.setItem(snoozeKey, String(Date.now() + days * 86400000)); } catch (e) { /* ignore */ }
  }

  var decision = null, shown = false, waitingFor = null, seen = [];

  function show(rules) {
    if (shown || snoozed(rules.snooze_days)) { return; }
    shown = true;
    var host = document.createElement("div");
    host.setAttribute("data-cxloop-widget", "");
    var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
    var side = rules.position === "bottom-left" ? "left" : "right";
    var params = new URLSearchParams({ wk: key, embed: "1", aid: anonymousId(), ch: "web", tp: location.pathname.slice(0, 100) });
    if (userId) { params.set("uid", userId); }
    var lang = script.getAttribute("data-lang") || document.documentElement.lang;
    if (lang) { params.set("lang", lang.slice(0, 2)); }
    root.innerHTML =
      "<style>.box{position:fixed;bottom:16px;" + side + ":16px;width:min(380px,calc(100vw - 32px));" +
      "background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.25);z-index:2147483000;overflow:hidden}" +
      "iframe{border:0;width:100%;height:420px;display:block}" +
      "button{position:absolute;top:6px;right:6px;border:0;background:#fff;font-size:22px;line-height:1;" +
      "width:36px;height:36px;border-radius:18px;cursor:pointer;color:#1b1f24}" +
      "button:focus-visible{outline:3px solid #1b1f24;outline-offset:2px}</style>" +
      "<div class='box' role='dialog' aria-label='Survey'><button type='button'>&times;</button>" +
      "<iframe title='Survey'></iframe></div>";
    var frame = root.querySelector("iframe");
    var close = root.querySelector("button");
    close.setAttribute("aria-label", (decision && decision.close_label) || "Close");
    var label = (decision && decision.dialog_label) || "Survey";
    root.querySelector(".box").setAttribute("aria-label", label);
    frame.setAttribute("title", label);
    frame.src = base + "/s/" + decision.survey_id + "?" + params.toString();
    close.addEventListener("click", function () { snooze(rules.snooze_days); host.remove(); });
    window.addEventListener("message", function (event) {
      if (event.origin !== base || !event.data || !event.data.cxloop) { return; }
      if (event.data.type === "height") { frame.style.height = Math.min(event.data.value + 8, 640) + "px"; }
      if (event.data.type === "done") { snooze(Math.max(rules.snooze_days, 1)); setTimeout(function () { host.remove(); }, 4000); }
    });
    document.body.appendChild(host);
  }

  function maybeShow(eventName) {
    if (!decision || !decision.show || shown) { return; }
    var rules = decision.rules || {};
    if (rules.event && rules.event !== eventName && seen.indexOf(rules.event) < 0) { waitingFor = rules.event; return; }
    setTimeout(function () { show(rules); }, (rules.delay_seconds || 0) * 1000);
  }

  function track(name) { seen.push(name); if (waitingFor && name === waitingFor) { waitingFor = null; maybeShow(name); } }
  function identify(id) { if (id) { userId = String(id); } }

  window.cxloop = function (command, arg) {
    if (command === "track") { track(arg); } else if (command === "identify") { identify(arg); }
  };
  queued.forEach(function (call) { window.cxloop.apply(null, call); });
  if (window.analytics && typeof window.analytics.on === "function") {
    window.analytics.on("track", function (event) { track(event); });
  }

  var query = new URLSearchParams({ key: key, url: location.href.slice(0, 2000), aid: anonymousId(),
    lang: (script.getAttribute("data-lang") || navigator.language || "en").slice(0, 2) });
  if (userId) { query.set("uid", userId); }
  fetch(base + "/s/widget/eligible?" + query.toString(), { credentials: "omit" })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (body) {
      if (!body || !body.show) { return; }
      decision = body;
      if (snoozed((body.rules || {}).snooze_days || 0)) { return; }
      maybeShow(null);
    })
    .catch(function () { /* the site must never break because of the widget */ });
})();

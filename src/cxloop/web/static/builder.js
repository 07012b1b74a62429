/* cxloop survey builder: adds, removes and reorders questions, choices and conditions in
   place, keeps the skip-logic menus and the fallback hints in step with the questions, and
   refreshes the live preview. The form works without it: each of its buttons posts the form
   and the page comes back changed. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-builder]");
  if (!form) { return; }
  var list = form.querySelector("[data-questions]");
  var frame = document.querySelector("iframe[data-preview]");
  var status = document.querySelector("[data-preview-status]");
  var LANGS = ["vi", "th", "en"];
  var ATTRS = ["name", "id", "for", "aria-describedby"];

  function all(root, selector) { return Array.prototype.slice.call(root.querySelectorAll(selector)); }
  function questions() { return all(list, "[data-question]"); }

  function reindex(root, pattern, index) {
    all(root, "*").concat([root]).forEach(function (el) {
      ATTRS.forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value !== null) { el.setAttribute(attr, value.replace(pattern, "$1" + index)); }
      });
    });
  }

  function renumber() {
    questions().forEach(function (q, i) {
      reindex(q, /(questions[.-])\d+/g, i);
      all(q, "[data-choice]").forEach(function (row, j) {
        reindex(row, /(choices[.-])\d+/g, j);
        all(row, "button[data-op]").forEach(function (b) { b.value = b.getAttribute("data-op") + ":" + i + ":" + j; });
      });
      all(q, "[data-condition]").forEach(function (row, k) {
        reindex(row, /(show_if[.-])\d+/g, k);
        all(row, "button[data-op]").forEach(function (b) { b.value = b.getAttribute("data-op") + ":" + i + ":" + k; });
      });
      all(q, "button[data-op]").forEach(function (b) {
        if (!b.closest("[data-choice]") && !b.closest("[data-condition]")) {
          b.value = b.getAttribute("data-op") + ":" + i;
        }
      });
      var number = q.querySelector("[data-number]");
      if (number) { number.textContent = String(i + 1); }
    });
    refreshConditions();
  }

  function field(q, name) { return q.querySelector("[name$='." + name + "']"); }
  function questionId(q) { var el = field(q, "id"); return el ? el.value.trim() : ""; }
  function questionTitle(q) {
    for (var i = 0; i < LANGS.length; i++) {
      var el = q.querySelector("[name$='.title." + LANGS[i] + "']");
      if (el && el.value.trim()) { return el.value.trim(); }
    }
    return "";
  }

  function refreshConditions() {
    var earlier = [];
    questions().forEach(function (q) {
      all(q, "select[data-condition-question]").forEach(function (select) {
        var chosen = select.value || select.getAttribute("data-value") || "";
        var blank = select.querySelector("option[value='']");
        select.textContent = "";
        if (blank) { select.appendChild(blank); }
        earlier.forEach(function (item) {
          var option = document.createElement("option");
          option.value = item.id;
          option.textContent = item.title ? item.id + " \u2014 " + item.title : item.id;
          select.appendChild(option);
        });
        if (chosen && earlier.every(function (item) { return item.id !== chosen; })) {
          var missing = document.createElement("option");  // keep what the survey says
          missing.value = chosen;
          missing.textContent = chosen;
          select.appendChild(missing);
        }
        select.value = chosen;
      });
      var id = questionId(q);
      if (id) { earlier.push({ id: id, title: questionTitle(q) }); }
    });
  }

  function showTypeParts(q) {
    var type = field(q, "type");
    if (!type) { return; }
    all(q, "[data-for-types]").forEach(function (part) {
      var types = part.getAttribute("data-for-types").split(" ");
      var shown = types.indexOf(type.value) >= 0;
      part.hidden = !shown;
      all(part, "input, select, textarea").forEach(function (el) { el.disabled = !shown; });
    });
  }

  function defaultLanguage() {
    var select = form.querySelector("[name='default_language']");
    return (select && select.value) || "en";
  }

  function refreshHints() {
    // an empty text shows what respondents in that language will read instead
    var fallback = defaultLanguage();
    all(form, "[data-texts]").forEach(function (group) {
      var inputs = {};
      LANGS.forEach(function (lang) { inputs[lang] = group.querySelector("[data-lang='" + lang + "']"); });
      LANGS.forEach(function (lang) {
        var input = inputs[lang];
        if (!input) { return; }
        var order = [fallback, "en"].concat(LANGS);
        var hint = "";
        for (var i = 0; i < order.length && !hint; i++) {
          var other = inputs[order[i]];
          if (order[i] !== lang && other && other.value.trim()) { hint = other.value.trim(); }
        }
        input.placeholder = hint ? (group.getAttribute("data-fallback-label") || "") + " " + hint : "";
      });
    });
  }

  function uniqueId(base) {
    var taken = questions().map(questionId);
    if (taken.indexOf(base) < 0) { return base; }
    for (var n = 2; ; n++) { if (taken.indexOf(base + "_" + n) < 0) { return base + "_" + n; } }
  }

  function fromTemplate(id) {
    var template = document.getElementById(id);
    return template.content.firstElementChild.cloneNode(true);
  }

  function addQuestion() {
    var q = fromTemplate("question-template");
    var kind = questions().length ? "text" : "nps";
    list.appendChild(q);
    field(q, "type").value = kind;
    var idField = field(q, "id");
    idField.value = uniqueId(kind);
    idField.setAttribute("data-auto", "1");
    renumber();
    showTypeParts(q);
    refreshHints();
    var title = q.querySelector("[data-lang]");
    if (title) { title.focus(); }
  }

  function addRow(q, kind) {
    var holder = q.querySelector(kind === "choice" ? "[data-choices]" : "[data-conditions]");
    var row = fromTemplate(kind + "-template");
    holder.appendChild(row);
    renumber();
    var first = row.querySelector("input, select");
    if (first) { first.focus(); }
  }

  function move(q, step) {
    var siblings = questions();
    var at = siblings.indexOf(q) + step;
    if (at < 0 || at >= siblings.length) { return; }
    if (step < 0) { list.insertBefore(q, siblings[at]); } else { list.insertBefore(siblings[at], q); }
    renumber();
    var button = q.querySelector("button[data-op='" + (step < 0 ? "up" : "down") + "']");
    if (button) { button.focus(); }
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-op]");
    if (!button || !form.contains(button)) { return; }
    var op = button.getAttribute("data-op");
    var q = button.closest("[data-question]");
    var handled = true;
    if (op === "add_question") { addQuestion(); }
    else if (op === "remove_question" && q) { q.remove(); renumber(); }
    else if (op === "up" && q) { move(q, -1); }
    else if (op === "down" && q) { move(q, 1); }
    else if (op === "add_choice" && q) { addRow(q, "choice"); }
    else if (op === "add_condition" && q) { addRow(q, "condition"); }
    else if (op === "remove_choice" || op === "remove_condition") {
      button.closest(op === "remove_choice" ? "[data-choice]" : "[data-condition]").remove();
      renumber();
    } else { handled = false; }
    if (handled) {
      event.preventDefault();
      schedulePreview();
    }
  });

  form.addEventListener("change", function (event) {
    var target = event.target;
    var q = target.closest("[data-question]");
    if (q && target.name && /\.type$/.test(target.name)) {
      var idField = field(q, "id");
      if (idField && idField.getAttribute("data-auto") === "1") {
        idField.value = "";
        idField.value = uniqueId(target.value);
      }
      showTypeParts(q);
    }
    if (q && target.name && /\.id$/.test(target.name) && !/choices/.test(target.name)) {
      target.removeAttribute("data-auto");
    }
    refreshConditions();
  });

  form.addEventListener("input", function () {
    refreshHints();
    schedulePreview();
  });
  form.addEventListener("change", schedulePreview);

  // -- the preview ------------------------------------------------------------------------

  var timer = null;
  var generation = 0;
  var previewPage = "form";

  function schedulePreview() {
    if (!frame) { return; }
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(refreshPreview, 350);
  }

  function refreshPreview() {
    timer = null;
    var mine = ++generation;
    var data = new FormData(form);
    var url = form.getAttribute("data-preview-url");
    url += (url.indexOf("?") >= 0 ? "&" : "?") + "preview=1" + (previewPage === "done" ? "&page=done" : "");
    if (status) { status.textContent = status.getAttribute("data-loading") || ""; }
    fetch(url, {
      method: "POST",
      body: new URLSearchParams(data),
      credentials: "same-origin",
      headers: { "Accept": "text/html" }
    }).then(function (response) {
      return response.text();
    }).then(function (html) {
      if (mine !== generation) { return; }
      frame.srcdoc = html;
      if (status) { status.textContent = status.getAttribute("data-ready") || ""; }
    }).catch(function () {
      if (status) { status.textContent = status.getAttribute("data-failed") || ""; }
    });
  }

  all(document, "[data-preview-language]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      event.preventDefault();
      var input = form.querySelector("[name='preview_language']");
      input.value = button.getAttribute("data-preview-language");
      all(document, "[data-preview-language]").forEach(function (other) {
        other.setAttribute("aria-pressed", String(other === button));
      });
      refreshPreview();
    });
  });

  all(document, "[data-preview-page]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      event.preventDefault();
      previewPage = button.getAttribute("data-preview-page");
      all(document, "[data-preview-page]").forEach(function (other) {
        other.setAttribute("aria-pressed", String(other === button));
      });
      refreshPreview();
    });
  });

  window.addEventListener("message", function (event) {
    // the previewed page reports its height, so the frame shows it whole
    if (!frame || event.source !== frame.contentWindow) { return; }
    var data = event.data || {};
    if (data.cxloop && data.type === "height" && typeof data.value === "number") {
      frame.style.height = Math.min(Math.max(data.value + 8, 240), 4000) + "px";
    }
  });

  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }  // a refused form: say why first
  form.setAttribute("data-enhanced", "1");
  questions().forEach(showTypeParts);
  renumber();
  refreshHints();
  if (frame) { refreshPreview(); }
})();

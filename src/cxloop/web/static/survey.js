/* cxloop survey page: shows follow-up questions in place (skip logic) and talks to the
   widget when the page is embedded. The page works without it. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-earlier]");
  var state = document.body.getAttribute("data-state");

  function post(message) {
    if (window.parent !== window) {
      message.cxloop = true;
      window.parent.postMessage(message, "*");
    }
  }
  function reportHeight() { post({ type: "height", value: document.documentElement.scrollHeight }); }

  if (form) {
    form.elements.js.value = "1";
    var earlier = {};
    try { earlier = JSON.parse(form.getAttribute("data-earlier") || "{}"); } catch (e) { earlier = {}; }
    var blocks = Array.prototype.slice.call(form.querySelectorAll("fieldset.q"));

    var answers = function () {
      var known = Object.assign({}, earlier);
      blocks.forEach(function (block) {
        if (block.disabled) { return; }
        var id = block.id.slice(2), type = block.getAttribute("data-type");
        var inputs = block.querySelectorAll("[name='a." + id + "']");
        var values = [];
        Array.prototype.forEach.call(inputs, function (input) {
          if ((input.type === "radio" || input.type === "checkbox") && !input.checked) { return; }
          if (input.value.trim()) { values.push(input.value); }
        });
        if (!values.length) { return; }
        if (type === "multiple_choice") { known[id] = values; }
        else if (["nps", "csat", "ces", "rating"].indexOf(type) >= 0) { known[id] = parseInt(values[0], 10); }
        else { known[id] = values[0]; }
      });
      return known;
    };

    var holds = function (c, known) {
      var a = known[c.question], v = c.value;
      if (c.op === "answered") { return a !== undefined; }
      if (a === undefined) { return false; }
      if (Array.isArray(a)) {
        if (c.op === "in") { return Array.isArray(v) && v.some(function (x) { return a.indexOf(x) >= 0; }); }
        if (c.op === "eq" || c.op === "ne") { return (a.indexOf(v) >= 0) === (c.op === "eq"); }
        return false;
      }
      switch (c.op) {
        case "eq": return a === v;
        case "ne": return a !== v;
        case "in": return Array.isArray(v) && v.indexOf(a) >= 0;
        case "lt": return a < v;
        case "lte": return a <= v;
        case "gt": return a > v;
        case "gte": return a >= v;
      }
      return false;
    };

    var update = function () {
      // in order: a follow-up may depend on another follow-up shown just before it
      blocks.forEach(function (block) {
        var rule = block.getAttribute("data-show-if");
        if (rule === null) { return; }
        var conditions = JSON.parse(rule);
        var known = answers();
        var show = conditions.every(function (c) { return holds(c, known); });
        block.hidden = !show;
        block.disabled = !show;
      });
      reportHeight();
    };
    form.addEventListener("change", update);
    form.addEventListener("input", update);
    update();
  }
  if (state === "done") { post({ type: "done" }); }
  reportHeight();
  window.addEventListener("resize", reportHeight);
})();

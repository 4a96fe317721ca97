// Countdowns: every <time data-countdown> says how long until its datetime
// (or how long overdue), refreshed each minute. The page is complete
// without this script; it only keeps the words current.
(function () {
  function span(ms) {
    var m = Math.floor(ms / 60000);
    if (m < 1) return "less than a minute";
    if (m < 60) return m + (m === 1 ? " minute" : " minutes");
    var h = Math.floor(m / 60);
    if (h < 48) {
      var rest = m % 60;
      var hs = h + (h === 1 ? " hour" : " hours");
      return rest === 0 || h >= 10 ? hs : hs + " " + rest + (rest === 1 ? " minute" : " minutes");
    }
    var d = Math.floor(h / 24);
    return d + (d === 1 ? " day" : " days");
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("datetime"));
      if (isNaN(due)) return;
      var left = due - now;
      el.textContent = left < 0 ? "overdue by " + span(-left) : "in " + span(left);
      el.classList.toggle("overdue", left < 0);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 60000);
  });
})();

// Buttons with data-confirm ask first (cancelling a run cannot be undone).
// Without this script the form posts at once, as any form does.
document.addEventListener("submit", function (ev) {
  var button = ev.submitter;
  if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm)) ev.preventDefault();
});

// The playbook editor: a line-number gutter that marks the lines with
// errors, and a check as you type (the page's own validate endpoint; the
// form is checked again when saved, and works without this script).
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("editor");
  var source = document.getElementById("source");
  var gutter = document.getElementById("gutter");
  if (!form || !source || !gutter) return;
  var list = document.getElementById("errors");
  var check = document.getElementById("check");

  function badLines() {
    var out = {};
    (source.dataset.errorLines || "").split(" ").forEach(function (n) { if (n) out[n] = true; });
    return out;
  }
  function drawGutter() {
    var lines = source.value.split("\n").length;
    var bad = badLines();
    var frag = document.createDocumentFragment();
    for (var i = 1; i <= lines; i++) {
      var span = document.createElement("span");
      span.textContent = String(i);
      if (bad[i]) span.className = "bad";
      frag.appendChild(span);
    }
    gutter.replaceChildren(frag);
    gutter.scrollTop = source.scrollTop;
  }
  source.addEventListener("scroll", function () { gutter.scrollTop = source.scrollTop; });

  // Selects a line of the text, for the links of the error list.
  function goToLine(n) {
    var lines = source.value.split("\n");
    var start = 0;
    for (var i = 0; i < n - 1 && i < lines.length; i++) start += lines[i].length + 1;
    source.focus();
    source.setSelectionRange(start, start + (lines[n - 1] || "").length);
    var lineHeight = source.scrollHeight / Math.max(lines.length, 1);
    source.scrollTop = Math.max(0, (n - 3) * lineHeight);
  }
  list.addEventListener("click", function (ev) {
    var a = ev.target.closest("a[data-line]");
    if (!a) return;
    ev.preventDefault();
    goToLine(parseInt(a.dataset.line, 10));
  });

  function show(result) {
    var lines = [];
    list.replaceChildren();
    result.errors.forEach(function (e) {
      var li = document.createElement("li");
      li.dataset.line = String(e.line);
      if (e.line) {
        var a = document.createElement("a");
        a.href = "#source";
        a.dataset.line = String(e.line);
        a.textContent = "Line " + e.line;
        li.appendChild(a);
        lines.push(e.line);
      } else {
        li.appendChild(document.createTextNode("The document"));
      }
      if (e.path) {
        li.appendChild(document.createTextNode(" · "));
        var code = document.createElement("code");
        code.textContent = e.path;
        li.appendChild(code);
      }
      li.appendChild(document.createTextNode(": " + e.message));
      if (e.reference) {
        var ref = document.createElement("a");
        ref.className = "ref-link";
        ref.href = e.reference;
        ref.target = "_blank";
        ref.rel = "noopener";
        ref.textContent = "about " + e.reference_title;
        li.appendChild(document.createTextNode(" ("));
        li.appendChild(ref);
        li.appendChild(document.createTextNode(")"));
      }
      list.appendChild(li);
    });
    source.dataset.errorLines = lines.join(" ");
    if (result.valid) {
      source.removeAttribute("aria-invalid");
      check.className = "check";
      check.textContent = "The definition is valid.";
    } else {
      source.setAttribute("aria-invalid", "true");
      check.className = "check bad";
      check.textContent = result.errors.length + " error(s): nothing is saved until each is fixed.";
    }
    drawGutter();
  }

  var timer = null, asked = 0;
  function validate() {
    var mine = ++asked;
    var body = new URLSearchParams();
    body.set("csrf", form.elements.csrf.value);
    body.set("source", source.value);
    fetch(form.dataset.validate, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (result) { if (result && mine === asked) show(result); })
      .catch(function () { /* saving checks anyway */ });
  }
  source.addEventListener("input", function () {
    drawGutter();
    clearTimeout(timer);
    timer = setTimeout(validate, 500);
  });
  drawGutter();
});

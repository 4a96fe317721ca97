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

// Ferry console: live progress of a running run (polls the server; the run goes on without it).
(function () {
  var box = document.getElementById("live");
  if (!box) return;
  var url = box.getAttribute("data-progress");
  var bar = box.querySelector(".progress > div");
  var text = box.querySelector(".live-text");
  function tick() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        var pct = s.total > 0 ? Math.min(100, Math.round(100 * s.done / s.total)) : 0;
        bar.style.width = pct + "%";
        text.textContent = s.running
          ? (s.stage || "Starting") + (s.total > 0 ? ": " + s.done.toLocaleString() + " of " + s.total.toLocaleString() + " (" + pct + " %)" : "")
            + " — " + s.errors + " errors, " + s.warnings + " warnings so far"
          : "Finished: " + s.status;
        if (s.running) { setTimeout(tick, 700); } else { setTimeout(function () { window.location.reload(); }, 400); }
      })
      .catch(function () { setTimeout(tick, 2000); });
  }
  tick();
})();

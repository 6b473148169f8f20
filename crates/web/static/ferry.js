// Ferry console: live progress of a running run (polls the server; the run goes on without it):
// the whole run's share of records, elapsed time and an estimate of the time left, then the stage.
(function () {
  var box = document.getElementById("live");
  if (!box) return;
  var url = box.getAttribute("data-progress");
  var bar = box.querySelector(".progress > div");
  var overall = box.querySelector(".live-overall");
  var text = box.querySelector(".live-text");
  function n(x) { return x.toLocaleString(); }
  function span(s) {
    if (s === null || s === undefined) return "";
    if (s < 60) return s + " s";
    var m = Math.floor(s / 60);
    if (m < 60) return m + " min " + (s % 60) + " s";
    return Math.floor(m / 60) + " h " + (m % 60) + " min";
  }
  function overallText(s) {
    var parts = [];
    if (s.overall_total > 0) {
      var pct = Math.min(100, Math.floor(100 * s.overall_done / s.overall_total));
      parts.push(pct + " % of the run (" + n(s.overall_done) + " of " + n(s.overall_total) + " records)");
    } else {
      parts.push("Reading the files: " + n(s.done) + " records so far");
    }
    if (s.elapsed_s !== null && s.elapsed_s !== undefined) parts.push("elapsed " + span(s.elapsed_s));
    if (s.eta_s !== null && s.eta_s !== undefined) parts.push("about " + span(s.eta_s) + " left");
    return parts.join(" · ");
  }
  function tick() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        var share = s.overall_total > 0 ? s.overall_done / s.overall_total : (s.total > 0 ? s.done / s.total : 0);
        bar.style.width = Math.min(100, Math.round(100 * share)) + "%";
        overall.textContent = s.running ? overallText(s) : "";
        var stagePct = s.total > 0 ? Math.min(100, Math.round(100 * s.done / s.total)) : 0;
        text.textContent = s.running
          ? (s.stage || "Starting") + (s.total > 0 ? ": " + n(s.done) + " of " + n(s.total) + " (" + stagePct + " %)" : "")
            + " — " + n(s.errors) + " errors, " + n(s.warnings) + " warnings so far"
          : "Finished: " + s.status;
        if (s.running) { setTimeout(tick, 700); } else { setTimeout(function () { window.location.reload(); }, 400); }
      })
      .catch(function () { setTimeout(tick, 2000); });
  }
  tick();
})();

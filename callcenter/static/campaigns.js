// Keeps the campaigns page's counts fresh; a campaign added elsewhere reloads the page
// (unless a supervisor is typing a new one).
(function () {
  "use strict";
  var table = document.getElementById("campaigns");
  if (!table) { return; }
  var source = table.dataset.source;
  var seconds = parseInt(table.dataset.refreshSeconds, 10) || 10;
  var stamp = document.getElementById("refreshed");
  var ACTIONS = { pause: ["running"], resume: ["paused"], cancel: ["running", "paused"] };

  function shown() {
    return Array.prototype.map.call(table.querySelectorAll("tbody tr[data-id]"), function (row) {
      return row.dataset.id;
    }).join(",");
  }

  function render(data) {
    var ids = data.campaigns.map(function (c) { return String(c.id); }).join(",");
    var form = document.getElementById("new-campaign");
    if (ids !== shown() && !(form && form.contains(document.activeElement))) {
      window.location.reload();
    }
    data.campaigns.forEach(function (c) {
      var row = document.getElementById("campaign-" + c.id);
      if (!row) { return; }
      row.querySelectorAll("[data-field]").forEach(function (cell) {
        var name = cell.dataset.field;
        cell.textContent = name === "progress" ? c.finished + "/" + c.total
          : name === "state" ? (c.state_label || c.state) : c[name];
      });
      var bar = row.querySelector("progress");
      bar.max = c.total || 1;
      bar.value = c.finished;
      row.querySelectorAll("form[data-action]").forEach(function (action) {
        action.hidden = ACTIONS[action.dataset.action].indexOf(c.state) < 0;
      });
    });
  }

  window.samparkPoll(source, seconds, render, stamp);
})();

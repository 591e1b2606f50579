// Keeps the supervisors' wallboard fresh: the figures, the count per state, every operator.
(function () {
  "use strict";
  var board = document.getElementById("wallboard");
  if (!board) { return; }
  var body = document.querySelector("#operators tbody");

  function clock(seconds) {
    var minutes = Math.floor(seconds / 60);
    var rest = seconds % 60;
    return minutes + ":" + (rest < 10 ? "0" : "") + rest;
  }

  var words = board.dataset;  // the page's language: data-minutes, data-seconds-left, data-empty
  var cell = window.samparkCell;  // tables.js labels the cells for the phone layout

  function render(data) {
    board.querySelectorAll("[data-field]").forEach(function (value) {
      var figure = data[value.dataset.field];
      var unit = value.dataset.unit;
      if (figure === null || figure === undefined) { value.textContent = "—"; return; }
      value.textContent = figure + (unit === "%" ? "%" : unit ? " " + unit : "");
    });
    data.states.forEach(function (state) {
      var count = board.querySelector('[data-state-count="' + state.state + '"]');
      if (count) { count.textContent = state.count; }
    });
    var rows = document.createDocumentFragment();
    data.operators.forEach(function (operator) {
      var tr = document.createElement("tr");
      tr.className = "state-" + operator.state;
      tr.dataset.id = operator.id;
      cell(tr, operator.name);
      var left = (words.secondsLeft || "{n} s left").replace("{n}", operator.seconds_left);
      cell(tr, operator.label + (operator.seconds_left === null ? "" : " (" + left + ")"));
      cell(tr, clock(operator.seconds_in_state));
      var held = cell(tr, "");
      if (operator.callback_id) {
        var link = document.createElement("a");
        link.href = operator.callback_url;
        link.textContent = operator.callback_id;
        held.appendChild(link);
      }
      cell(tr, operator.calls_today);
      rows.appendChild(tr);
    });
    if (!data.operators.length) {
      rows.appendChild(window.samparkEmptyRow(words.empty || "No operator account is active.", 5));
    }
    body.replaceChildren(rows);
  }

  window.samparkPoll(
    board.dataset.source,
    parseInt(board.dataset.refreshSeconds, 10) || 10,
    render,
    document.getElementById("refreshed")
  );
})();

// Keeps the queue page fresh ("N" takes the next callback: keys.js).
(function () {
  "use strict";
  var table = document.getElementById("queue");
  if (!table) { return; }
  var source = table.dataset.source;
  var seconds = parseInt(table.dataset.refreshSeconds, 10) || 5;
  var body = table.querySelector("tbody");
  var claim = document.getElementById("my-claim");
  var stamp = document.getElementById("refreshed");
  var words = table.dataset;  // the page's language: data-empty, data-minutes, data-you-hold…

  var cell = window.samparkCell;

  function render(data) {
    var rows = document.createDocumentFragment();
    data.rows.forEach(function (item) {
      var tr = document.createElement("tr");
      tr.className = "sla-" + item.sla + (item.due ? "" : " not-due");
      tr.dataset.id = item.id;
      var link = document.createElement("a");
      link.href = item.url;
      link.textContent = item.id;
      cell(tr, "").appendChild(link);
      cell(tr, item.phone).className = "phone";
      cell(tr, item.language_label || item.language);
      cell(tr, item.priority);
      cell(tr, item.waited_minutes + " " + (words.minutes || "min"));
      cell(tr, item.missed_calls);
      cell(tr, item.attempts);
      cell(tr, item.due_at + (item.slot ? " (" + (item.slot_label || item.slot) + ")" : ""));
      rows.appendChild(tr);
    });
    if (!data.rows.length) {
      rows.appendChild(window.samparkEmptyRow(words.empty || "No callback is waiting.", 8));
    }
    body.replaceChildren(rows);
    claim.replaceChildren();
    if (data.claim) {
      var held = document.createElement("a");
      held.href = data.claim.url;
      held.textContent = (words.callback || "callback {id}").replace("{id}", data.claim.id);
      claim.append((words.youHold || "You hold") + " ", held, ".");
    }
  }

  window.samparkPoll(source, seconds, render, stamp);
})();

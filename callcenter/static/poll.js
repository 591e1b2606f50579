// Asks a page's JSON source again every few seconds and hands each answer to the page;
// and the two pieces the refreshed tables are built of.
window.samparkCell = function (row, text) {
  "use strict";
  var td = document.createElement("td");
  td.textContent = text;
  row.appendChild(td);
  return td;
};

window.samparkEmptyRow = function (text, columns) {
  "use strict";
  var empty = document.createElement("tr");
  empty.className = "empty";
  window.samparkCell(empty, text).colSpan = columns;
  return empty;
};

window.samparkPoll = function (source, seconds, render, stamp) {
  "use strict";
  var words = document.body.dataset;  // in the page's language (base.html)
  function refresh() {
    fetch(source, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (response.redirected || !response.ok) { throw new Error(response.status); }
        return response.json();
      })
      .then(function (data) {
        render(data);
        stamp.textContent = (words.updated || "Updated") + " " + new Date().toLocaleTimeString();
      })
      .catch(function () { stamp.textContent = words.refreshFailed || "Could not refresh; retrying."; })
      .finally(function () { window.setTimeout(refresh, seconds * 1000); });
  }
  window.setTimeout(refresh, seconds * 1000);
};

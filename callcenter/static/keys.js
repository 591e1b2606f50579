// Page keys: an element with data-key="c" is pressed by the key C (links followed, buttons
// submit their form). Keys typed into a field, or held with Ctrl, Alt or Cmd, are left alone.
(function () {
  "use strict";
  var FIELDS = /^(INPUT|TEXTAREA|SELECT)$/;

  function typing(target) {
    return !!target && (FIELDS.test(target.tagName) || target.isContentEditable);
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.repeat) { return; }
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (typing(event.target) || typing(document.activeElement)) { return; }
    var key = (event.key || "").toLowerCase();
    if (!/^[a-z0-9]$/.test(key)) { return; }
    var target = document.querySelector('[data-key="' + key + '"]');
    if (!target || target.disabled) { return; }
    event.preventDefault();
    if (target.form && target.form.requestSubmit) {
      target.form.requestSubmit(target);
    } else {
      target.click();
    }
  });
})();

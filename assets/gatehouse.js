// Progressive enhancement only: every page works without this file.
// Shows the "Copy" buttons next to read-only values and copies on click.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var input = document.getElementById(button.getAttribute("data-copy"));
    if (!input || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(function () {
        var label = button.textContent;
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = label; }, 1500);
      });
    });
  });
});

// A "wait …" message counts down in words, and says when trying again is possible.
document.addEventListener("DOMContentLoaded", function () {
  var banner = document.querySelector("[data-countdown]");
  if (!banner) return;
  var left = parseInt(banner.getAttribute("data-countdown"), 10);
  if (!(left > 0)) return;
  function words(s) {
    if (s === 1) return "1 second";
    if (s <= 90) return s + " seconds";
    if (s < 5400) return "about " + Math.round(s / 60) + " minutes";
    return "about " + Math.round(s / 3600) + " hours";
  }
  // Screen readers hear the message once, not every second; and the end.
  banner.setAttribute("aria-live", "off");
  var timer = setInterval(function () {
    left -= 1;
    if (left <= 0) {
      clearInterval(timer);
      banner.setAttribute("aria-live", "polite");
      banner.textContent = "You can try again now.";
      return;
    }
    banner.textContent = "Too many failed attempts. Wait " + words(left) + ", then try again.";
  }, 1000);
});

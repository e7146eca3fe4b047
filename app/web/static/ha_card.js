// "Add to the Energy dashboard" / "Remove": JSON POST to a relative URL (works under ingress).
// Results are written with textContent only: nothing from Home Assistant becomes HTML.
(function () {
  "use strict";
  var card = document.getElementById("homeassistant");
  if (!card) {
    return;
  }
  var result = card.querySelector(".ha-energy-result");

  function show(title, lines, failed) {
    result.textContent = "";
    result.className = "ha-energy-result " + (failed ? "error" : "notice");
    result.setAttribute("role", failed ? "alert" : "status");
    var strong = document.createElement("strong");
    strong.textContent = title;
    result.appendChild(strong);
    if (lines.length) {
      var list = document.createElement("ul");
      lines.forEach(function (line) {
        var item = document.createElement("li");
        item.textContent = line;
        list.appendChild(item);
      });
      result.appendChild(list);
    }
  }

  card.querySelectorAll(".ha-energy-action").forEach(function (button) {
    button.addEventListener("click", function () {
      button.disabled = true;
      fetch(card.dataset.energyUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        credentials: "same-origin",
        body: JSON.stringify({ action: button.dataset.action }),
      })
        .then(function (response) {
          return response.json();
        })
        .then(function (answer) {
          if (!answer.ok) {
            show(card.dataset.textFailed, [answer.error || ""], true);
          } else if (answer.added && answer.added.length) {
            show(card.dataset.textAdded, answer.added, false);
          } else if (answer.removed && answer.removed.length) {
            show(card.dataset.textRemoved, answer.removed, false);
          } else {
            show(card.dataset.textNothing, [], false);
          }
        })
        .catch(function (error) {
          show(card.dataset.textFailed, [String(error)], true);
        })
        .finally(function () {
          button.disabled = false;
        });
    });
  });
})();

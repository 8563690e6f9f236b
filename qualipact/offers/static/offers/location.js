// Share an approximate position for location-based offers, only when the person clicks.
//
// Nothing runs on page load except showing the button. The browser is asked for a
// position only after the click; the position is rounded to two decimals (about 1 km)
// here, before it leaves the browser, and again on the server, which trusts nothing.
// The page is served with "Permissions-Policy: geolocation=(self)" only while the person
// has consented to location features; elsewhere the browser refuses geolocation.
"use strict";

(function () {
  const button = document.querySelector("[data-share-location]");
  const status = document.querySelector("[data-share-location-status]");
  if (!button || !("geolocation" in navigator)) {
    return;
  }

  function say(message) {
    if (status) {
      status.textContent = message;
    }
  }

  function coarse(value) {
    return (Math.round(value * 100) / 100).toFixed(2);
  }

  async function send(position) {
    const body = new URLSearchParams({
      latitude: coarse(position.coords.latitude),
      longitude: coarse(position.coords.longitude),
    });
    try {
      const response = await fetch(button.dataset.endpoint, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      const answer = await response.json();
      if (response.ok) {
        say("Saved your approximate position (about 1 km).");
        window.location.reload();
      } else {
        say(answer.error ? answer.error.message : "Your position could not be saved.");
        button.disabled = false;
      }
    } catch (error) {
      say("Your position could not be sent. Please try again.");
      button.disabled = false;
    }
  }

  function failed(error) {
    const reasons = {
      1: "Your browser did not allow us to use your position. Nothing was stored.",
      2: "Your browser could not find your position. Nothing was stored.",
      3: "Finding your position took too long. Nothing was stored.",
    };
    say(reasons[error.code] || "Your position is not available. Nothing was stored.");
    button.disabled = false;
  }

  button.hidden = false;
  button.addEventListener("click", function () {
    button.disabled = true;
    say("Asking your browser for your position…");
    navigator.geolocation.getCurrentPosition(send, failed, {
      enableHighAccuracy: false,
      maximumAge: 600000,
      timeout: 20000,
    });
  });
})();

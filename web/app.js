// Placeholder: shows the live status from the event stream.
const out = document.getElementById("status");
const events = new EventSource("/v1/events");
events.addEventListener("status", (e) => { out.textContent = JSON.stringify(JSON.parse(e.data).status, null, 2); });
events.addEventListener("tick", (e) => { out.textContent = JSON.stringify(JSON.parse(e.data), null, 2); });
events.onerror = () => { out.textContent = "disconnected"; };

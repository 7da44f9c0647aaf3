// Every orgportal form is submitted by React (Reflex sends the fields over the websocket).
// Before React has taken over the page, a click on Sign in would make the browser submit the
// bare HTML form as a GET, putting the email and password in the address bar and the server
// log. Refuse the browser's own submission always; React's handler still runs.
document.addEventListener("submit", (event) => event.preventDefault(), true);

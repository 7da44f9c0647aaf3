// Inline in <head> (orgportal.py), before the page's own scripts. Reflex prerenders every
// page: its HTML shows while its scripts still load, and until React has taken the page over
// (hydrated it) nothing on it reacts. Then the page's load events run: a click's event sent
// before them would be handled first and undone by them (the registration page's load shows
// a fresh form, over the "check your inbox" its Create account had shown).
// orgportal/components/hydration.py marks both moments: <html data-hydrated="true">, then
// data-loaded="true" with the "app-loaded" event. The page is ready at the first of these.
//
// 1. The browser's own form submission is always refused: every orgportal form is sent by
//    React over the websocket. A bare HTML submit would be a GET that puts the email and
//    password of the sign-in form in the address bar and the server log.
// 2. A click on a button (or a form submitted with Enter) before the page is ready is not
//    lost: it is held, the control shows it is busy (aria-busy, a progress cursor, dimmed),
//    and the click is made again once the page is ready. Links are left alone: the browser
//    follows them by itself. Later pages of the visit (client-side) are never held.
(() => {
  const root = document.documentElement;
  let settled = false; // the first page was ready once: nothing is held after that
  const ready = () =>
    settled ||
    (settled = root.dataset.hydrated === "true" && root.dataset.loaded === "true");
  const CONTROLS = "button, [role=button], input[type=submit], input[type=button]";
  const held = []; // {element, path, form}: in the order they were made

  // Where an element is, as child indices from <html>: React keeps the prerendered nodes
  // when it hydrates, but recreates them when they differ; then the same place is used.
  const pathOf = (element) => {
    const path = [];
    for (let node = element; node && node !== root; node = node.parentElement) {
      path.unshift(Array.prototype.indexOf.call(node.parentElement.children, node));
    }
    return path;
  };
  const resolve = ({ element, path }) => {
    if (element.isConnected) return element;
    let node = root;
    for (const index of path) node = node && node.children[index];
    return node && node.tagName === element.tagName ? node : null;
  };

  const markBusy = (element) => {
    element.setAttribute("aria-busy", "true");
    element.dataset.heldClick = "true";
    element.style.cursor = "progress";
    element.style.opacity = "0.6";
    root.style.cursor = "progress";
  };
  const unmark = (element) => {
    element.removeAttribute("aria-busy");
    delete element.dataset.heldClick;
    element.style.removeProperty("cursor");
    element.style.removeProperty("opacity");
  };

  const hold = (entry) => {
    if (held.some((h) => h.element === entry.element)) return; // one press per control
    held.push(entry);
    markBusy(entry.element);
  };

  document.addEventListener(
    "click",
    (event) => {
      if (ready() || !(event.target instanceof Element)) return;
      const control = event.target.closest(CONTROLS);
      if (!control || control.disabled) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      hold({ element: control, path: pathOf(control) });
    },
    true,
  );

  document.addEventListener(
    "submit",
    (event) => {
      event.preventDefault();
      // Enter in a field clicks the form's submit button (held above); a form without one
      // is submitted directly: hold the form itself.
      if (!ready() && event.target instanceof HTMLFormElement && !event.submitter) {
        hold({ element: event.target, path: pathOf(event.target), form: true });
      }
    },
    true,
  );

  // A press as a mouse makes it: some controls act on pointerdown (menus, selects), most
  // on click.
  const press = (element) => {
    const base = { bubbles: true, cancelable: true, composed: true, view: window, button: 0 };
    const pointer = { pointerId: 1, pointerType: "mouse", isPrimary: true };
    element.focus({ preventScroll: true });
    element.dispatchEvent(new PointerEvent("pointerdown", { ...base, ...pointer, buttons: 1 }));
    element.dispatchEvent(new MouseEvent("mousedown", { ...base, buttons: 1 }));
    element.dispatchEvent(new PointerEvent("pointerup", { ...base, ...pointer, buttons: 0 }));
    element.dispatchEvent(new MouseEvent("mouseup", { ...base, buttons: 0 }));
    element.click();
  };

  const replay = () => {
    root.style.removeProperty("cursor");
    const entries = held.splice(0);
    for (const entry of entries) unmark(entry.element);
    for (const entry of entries) {
      const element = resolve(entry);
      if (!element) continue;
      if (entry.form) element.requestSubmit();
      else if (!element.disabled) press(element);
    }
  };
  // after the effect that announced it: React's commit is over and its handlers are in place
  window.addEventListener("app-loaded", () => {
    settled = true;
    setTimeout(replay, 0);
  });
})();

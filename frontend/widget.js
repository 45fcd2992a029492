// The embeddable chat: <script src="https://your-appliance/widget.js" defer></script>
//
// Adds a bubble in the page's corner that opens the chat from this
// appliance in a frame. The bubble lives in a shadow root and its
// styles are a constructed style sheet, so the page's CSS cannot reach it,
// its CSS cannot reach the page, and a page whose CSP forbids inline styles
// still shows it. Optional: data-lang="en" on the script tag.
(() => {
  const script = document.currentScript;
  if (!script || window.__customerServiceWidget) return;
  window.__customerServiceWidget = true;
  const appliance = new URL(script.src, location.href).origin;
  const lang = script.dataset.lang || (document.documentElement.lang.startsWith("en") ? "en" : "zh");
  const labels = {
    zh: { open: "打开在线客服", close: "关闭在线客服", frame: "在线客服" },
    en: { open: "Open customer service chat", close: "Close customer service chat", frame: "Customer service chat" },
  }[lang] || { open: "Chat", close: "Close", frame: "Chat" };

  const CSS = `
    :host { all: initial !important; position: fixed !important; z-index: 2147483000 !important;
      right: 20px !important; bottom: 20px !important; display: block !important; }
    button { all: initial; box-sizing: border-box; width: 56px; height: 56px; border-radius: 50%;
      background: #1d4ed8; color: #fff; cursor: pointer; display: grid; place-items: center;
      box-shadow: 0 4px 14px rgba(0,0,0,.25); }
    button:focus-visible { outline: 3px solid #1d4ed8; outline-offset: 3px; }
    svg { width: 28px; height: 28px; fill: #fff; }
    .panel { position: fixed; right: 20px; bottom: 88px; width: 380px; height: min(600px, calc(100vh - 108px));
      border-radius: 12px; overflow: hidden; box-shadow: 0 8px 30px rgba(0,0,0,.3); background: #fff; }
    .panel[hidden] { display: none; }
    iframe { border: 0; width: 100%; height: 100%; display: block; }
    @media (max-width: 480px) {
      .panel { right: 0; bottom: 0; width: 100vw; height: calc(100vh - 88px); top: 0; border-radius: 0; }
    }`;
  const CHAT_ICON = "M4 4h16v12H9l-5 4z";
  const CLOSE_ICON = "M6 5l13 13-1 1L5 6zM18 5l1 1L6 19l-1-1z";
  // Built node by node: a page enforcing Trusted Types refuses innerHTML.
  const icon = (path) => {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    const shape = document.createElementNS(ns, "path");
    shape.setAttribute("d", path);
    svg.append(shape);
    return svg;
  };

  const host = document.createElement("customer-service-widget");
  const shadow = host.attachShadow({ mode: "open" });
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(CSS);
  shadow.adoptedStyleSheets = [sheet];

  const panel = document.createElement("div");
  panel.className = "panel";
  panel.id = "panel";
  panel.hidden = true;
  const bubble = document.createElement("button");
  bubble.type = "button";
  bubble.setAttribute("aria-controls", "panel");
  let frame = null;

  const show = (open) => {
    panel.hidden = !open;
    bubble.setAttribute("aria-expanded", String(open));
    bubble.setAttribute("aria-label", open ? labels.close : labels.open);
    bubble.replaceChildren(icon(open ? CLOSE_ICON : CHAT_ICON));
  };
  const open = () => {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.title = labels.frame;
      // The frame talks back only to this page's origin.
      const host = encodeURIComponent(location.origin);
      frame.src = `${appliance}/widget?lang=${encodeURIComponent(lang)}&host=${host}`;
      frame.allow = "clipboard-write";
      panel.append(frame);
    } else {
      frame.contentWindow.postMessage({ type: "cs:opened" }, appliance);
    }
    show(true);
  };
  const close = () => {
    show(false);
    bubble.focus();
  };
  bubble.addEventListener("click", () => (panel.hidden ? open() : close()));
  addEventListener("message", (event) => {
    if (event.origin === appliance && frame && event.source === frame.contentWindow &&
        event.data && event.data.type === "cs:close") close();
  });

  show(false);
  shadow.append(panel, bubble);
  const mount = () => document.body.append(host);
  if (document.body) mount();
  else addEventListener("DOMContentLoaded", mount);
})();

// A page not built yet: its title and the API to use meanwhile.
import { el } from "../../shared/dom.js";

export function comingSoon({ id, titleKey, api, adminOnly = false }) {
  return {
    id,
    titleKey,
    adminOnly,
    render(container, { t }) {
      container.append(
        el("h1", { text: t(titleKey) }),
        el("p", { class: "coming-soon", text: t("comingSoon", { path: api }) }),
      );
    },
  };
}

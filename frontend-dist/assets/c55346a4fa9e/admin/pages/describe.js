// How the inbox and the conversation name who holds one and when.
export function holderText(t, conversation, user) {
  if (conversation.assigned_agent_id == null) return t("unassigned");
  if (conversation.assigned_agent_id === user.id) return t("heldByYou");
  return t("heldByOther", { id: conversation.assigned_agent_id });
}

export function formatTime(iso, t) {
  return new Date(iso).toLocaleString(t("htmlLang"), {
    month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit",
  });
}

// Progressive enhancement only: every action works without this file.
"use strict";

// Copy buttons: shown only when script runs; they copy the card's key (data-key-value) or base URL (data-copy-value).
for (const button of document.querySelectorAll("[data-copy]")) {
    const card = button.closest("[data-key-type], [data-copy-scope]");
    const value = card?.querySelector("[data-key-value]")?.dataset.keyValue ?? card?.querySelector("[data-copy-value]")?.dataset.copyValue;
    const status = card?.querySelector(".copy-status");
    if (!value) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
        try {
            await navigator.clipboard.writeText(value);
            if (status) status.textContent = "Copied";
        } catch {
            if (status) status.textContent = "Copying failed: select the text and copy it.";
        }
    });
}

// A confirmation rendered open by the server becomes a modal dialog; Escape cancels like the Cancel link.
for (const dialog of document.querySelectorAll("dialog[data-modal][open]")) {
    dialog.close();
    dialog.showModal();
    dialog.querySelector("[autofocus]")?.focus();
    dialog.addEventListener("cancel", event => {
        event.preventDefault();
        location.assign(dialog.dataset.cancel);
    });
}

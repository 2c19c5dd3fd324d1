// Progressive enhancement only: every action works without this file.
"use strict";

// Copy buttons: shown only when script runs; they copy the value of the card's data-key-value element.
for (const button of document.querySelectorAll("[data-copy]")) {
    const card = button.closest("[data-key-type]");
    const value = card?.querySelector("[data-key-value]")?.dataset.keyValue;
    const status = card?.querySelector(".copy-status");
    if (!value) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
        try {
            await navigator.clipboard.writeText(value);
            if (status) status.textContent = "Copied";
        } catch {
            if (status) status.textContent = "Copying failed: select the key and copy it.";
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

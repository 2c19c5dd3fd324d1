// Progressive enhancement only: every action works without this file.
"use strict";

// Copy buttons: shown only when script runs; each copies the data-copy-value of its own data-copy-box.
for (const button of document.querySelectorAll("[data-copy]")) {
    const box = button.closest("[data-copy-box]");
    const value = box?.querySelector("[data-copy-value]")?.dataset.copyValue;
    const status = box?.querySelector(".copy-status");
    if (!value) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
        try {
            await navigator.clipboard.writeText(value);
            if (status) status.textContent = "Copied";
        } catch {
            if (status) status.textContent = "Copying failed: select the value and copy it.";
        }
    });
}

// A confirmation rendered open by the server becomes a modal dialog, with the focus where the server put
// autofocus (Cancel, for a destructive action). Cancel and Escape close it without a round trip and hand the
// focus back to the link that opened it; without script, Cancel is a link that does the same on the server.
for (const dialog of document.querySelectorAll("dialog[data-modal][open]")) {
    dialog.close();
    dialog.showModal();
    dialog.querySelector("[autofocus]")?.focus();
    const cancel = () => {
        dialog.close();
        history.replaceState(null, "", dialog.dataset.cancel);
        document.getElementById(dialog.dataset.opener ?? "")?.focus();
    };
    dialog.addEventListener("cancel", event => {
        event.preventDefault();
        cancel();
    });
    for (const link of dialog.querySelectorAll("a[data-cancel]")) {
        link.addEventListener("click", event => {
            event.preventDefault();
            cancel();
        });
    }
}

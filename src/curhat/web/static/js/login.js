// Sign-in and registration forms (customer and mitra): posts the form, stores the token, goes on.
// The form says where: data-endpoint, data-token-key, data-next.

import { Api, TokenStore, errorText } from "./api.js";

function fieldMessage(error) {
  if (!error.fields?.length) return errorText(error);
  const labels = { phone: "Nomor HP", password: "Kata sandi", display_name: "Nama panggilan" };
  return error.fields.map((f) => `${labels[f.field] || f.field}: ${f.message}`).join(" ");
}

export function startLoginForm(form) {
  const tokens = new TokenStore(form.dataset.tokenKey);
  const api = new Api({ tokens });
  const errorBox = form.querySelector(".form-error");
  const button = form.querySelector("button[type=submit]");
  if (tokens.get()) {
    // Already signed in on this device; an expired token is cleared by the app's first 401.
    location.replace(form.dataset.next);
    return;
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errorBox.hidden = true;
    const data = Object.fromEntries(new FormData(form));
    const invalid = [...form.elements].find((el) => el.willValidate && !el.checkValidity());
    if (invalid) {
      invalid.setAttribute("aria-invalid", "true");
      errorBox.textContent = `${form.querySelector(`label[for="${invalid.id}"]`)?.textContent || ""}: ${invalid.validationMessage}`;
      errorBox.hidden = false;
      invalid.focus();
      return;
    }
    button.disabled = true;
    try {
      const answer = await api.request("POST", form.dataset.endpoint, { body: data, auth: false });
      tokens.set(answer.access_token);
      location.assign(form.dataset.next);
    } catch (error) {
      errorBox.textContent = fieldMessage(error);
      errorBox.hidden = false;
      errorBox.focus?.();
    } finally {
      button.disabled = false;
    }
  });
  for (const input of form.querySelectorAll("input")) {
    input.addEventListener("input", () => input.removeAttribute("aria-invalid"));
  }
}

for (const form of document.querySelectorAll('form[data-module="login-form"]')) startLoginForm(form);

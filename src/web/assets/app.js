// 衔接工作台: the little the pages need beyond HTML. Everything works without it,
// except the live update of 待办 and of the office's pages.
"use strict";

// Pages with [data-live] parts redraw them when the visitor's inbox receives anything.
function followInbox() {
  const parts = document.querySelectorAll("[data-live]");
  if (parts.length === 0 || !window.EventSource) return;
  let pending = null;
  const redraw = async () => {
    const response = await fetch(location.href, { credentials: "same-origin" });
    if (!response.ok) return;
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const part of document.querySelectorAll("[data-live]")) {
      const fresh = page.getElementById(part.id);
      if (fresh) part.replaceWith(fresh);
    }
  };
  const after = document.body.dataset.inboxAfter;
  if (after === undefined) return;
  const events = new EventSource(`/events?after=${after}`);
  events.addEventListener("inbox", () => {
    clearTimeout(pending);
    pending = setTimeout(redraw, 200);
  });
  // Refused for good (too many open pages of the member, a revoked certificate):
  // look again every minute instead.
  events.addEventListener("error", () => {
    if (events.readyState === EventSource.CLOSED) setInterval(redraw, 60_000);
  });
}

// 公民身份号码: 17 digits and a check digit (GB 11643), checked as it is typed.
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECKS = "10X98765432";
function idNumberProblem(raw) {
  const id = raw.trim().toUpperCase();
  if (id === "") return "请填写公民身份号码";
  if (!/^\d{17}[\dX]$/.test(id)) return "公民身份号码应为18位，前17位为数字，末位为数字或X";
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(id[i]) * WEIGHTS[i];
  if (CHECKS[sum % 11] !== id[17]) return "公民身份号码校验位不正确，请核对";
  return "";
}
function checkIdNumbers() {
  for (const input of document.querySelectorAll("input[data-id-number]")) {
    const message = document.getElementById(input.getAttribute("aria-describedby"));
    const check = (final) => {
      const problem = idNumberProblem(input.value);
      const shown = final || input.value.trim().length >= 18 ? problem : "";
      input.setCustomValidity(problem);
      input.setAttribute("aria-invalid", problem ? "true" : "false");
      if (message) message.textContent = shown;
    };
    input.addEventListener("input", () => check(false));
    input.addEventListener("blur", () => check(true));
  }
}

// Needs suggest their recipients: checking a need checks the members that serve it.
function suggestRecipients() {
  for (const need of document.querySelectorAll("input[data-serves]")) {
    need.addEventListener("change", () => {
      if (!need.checked) return;
      for (const code of need.dataset.serves.split(" ").filter(Boolean)) {
        const box = document.querySelector(`input[name="recipients"][value="${code}"]`);
        if (box) box.checked = true;
      }
    });
  }
}

// Forms that ask first, forms that are sent once, files read into a text field.
// What a form that asks first will send, field by field, after its question.
function confirmation(form) {
  if (!form.hasAttribute("data-confirm-fields")) return form.dataset.confirm;
  const lines = [];
  for (const label of form.querySelectorAll("label")) {
    const control = label.querySelector("input, select, textarea");
    if (!control || control.type === "hidden" || control.type === "file") continue;
    const name = control.getAttribute("aria-label") || label.childNodes[0].textContent.trim();
    if (control.type === "checkbox") {
      if (control.checked) lines.push(`☑ ${label.textContent.trim()}`);
    } else if (control.tagName === "SELECT") {
      if (control.value) lines.push(`${name}：${control.selectedOptions[0].textContent}`);
    } else if (control.value.trim()) {
      lines.push(`${name}：${control.value.trim()}`);
    }
  }
  return `${form.dataset.confirm}\n\n${lines.join("\n")}`;
}

function guardForms() {
  for (const form of document.querySelectorAll("form[method=post]")) {
    form.addEventListener("submit", (event) => {
      if (form.dataset.confirm && !window.confirm(confirmation(form))) {
        event.preventDefault();
        return;
      }
      const idInput = form.querySelector("input[data-id-number]");
      if (idInput && idNumberInvalid(idInput)) {
        event.preventDefault();
        idInput.focus();
        return;
      }
      for (const button of form.querySelectorAll("button[type=submit]")) {
        setTimeout(() => (button.disabled = true), 0);
      }
    });
  }
  for (const input of document.querySelectorAll("input[data-fills]")) {
    input.addEventListener("change", async () => {
      const target = document.getElementById(input.dataset.fills);
      if (input.files.length > 0 && target) target.value = await input.files[0].text();
    });
  }
}
function idNumberInvalid(input) {
  const problem = idNumberProblem(input.value);
  const message = document.getElementById(input.getAttribute("aria-describedby"));
  if (message) message.textContent = problem;
  input.setAttribute("aria-invalid", problem ? "true" : "false");
  return problem !== "";
}

// 打印通报: the browser's own print (or save as PDF), the report alone.
function printButtons() {
  for (const button of document.querySelectorAll("[data-print]")) {
    button.addEventListener("click", () => window.print());
  }
}

// Our file choosers say in Chinese which files were chosen.
function nameChosenFiles() {
  for (const choice of document.querySelectorAll(".file-choice")) {
    const input = choice.querySelector("input[type=file]");
    const chosen = choice.querySelector(".chosen");
    input.addEventListener("change", () => {
      const names = Array.from(input.files, (f) => f.name);
      chosen.textContent = names.length === 0 ? "未选择文件" : `已选 ${names.length} 个：${names.join("、")}`;
    });
  }
}

// A refused form: its summary of what to change is where the clerk looks, and a Tab
// away from the first field.
function showRefusal() {
  const summary = document.querySelector("[data-refused]");
  if (!summary) return;
  summary.scrollIntoView({ block: "start" });
  summary.focus({ preventScroll: true });
}

document.addEventListener("DOMContentLoaded", () => {
  showRefusal();
  nameChosenFiles();
  followInbox();
  printButtons();
  checkIdNumbers();
  suggestRecipients();
  guardForms();
});

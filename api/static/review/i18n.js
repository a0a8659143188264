// The review page in English and Ukrainian. English is what index.html says; Ukrainian replaces it by
// selector. The choice is kept per browser (localStorage); a first visit follows the browser's language.
// Only these static strings are ever set as HTML (some hold <kbd>); data from the API stays text.
"use strict";

(() => {
  const LANG_STORE = "triage.review.lang";
  const LANGS = ["en", "uk"];

  // selector -> HTML, for the static page (each selector's English is read from the page itself)
  const PAGE_UK = {
    ".skip": "Перейти до звернення",
    ".top h1": "Перевірка запропонованих відповідей",
    "label[for=ui-lang]": "Мова сторінки",
    "#help-open": "Скорочення <kbd>?</kbd>",
    "#sign-out": "Вийти",
    "#sign-in-title": "Вхід",
    "label[for=api-key]": "API-ключ",
    "#api-key-hint":
      "Ключ агента (<code>triage keys create --name you --role agent</code>). Зберігається лише в цій вкладці браузера й надсилається з кожним запитом.",
    "#sign-in-form button[type=submit]": "Увійти",
    "#queue-title-text": "Очікують",
    "label[for=f-queue]": "Черга",
    "label[for=f-category]": "Категорія",
    "label[for=f-language]": "Мова",
    "label[for=f-priority]": "Пріоритет",
    "#refresh": "Оновити",
    "#queue-empty": "Немає пропозицій, що чекають на перевірку.",
    "#ticket-none":
      "Виберіть звернення в черзі: <kbd>j</kbd>/<kbd>k</kbd> — переміщення, <kbd>Enter</kbd> або <kbd>o</kbd> — відкрити.",
    "#msg-title": "Повідомлення клієнта",
    "#draft-label": "Чернетка відповіді",
    "#draft-keys":
      "<kbd>a</kbd> схвалити як є · <kbd>e</kbd> редагувати · <kbd>Ctrl</kbd>+<kbd>Enter</kbd> надіслати змінене · <kbd>r</kbd> відхилити",
    "#approve": "Схвалити",
    "#send-edit": "Надіслати змінене",
    "#restore": "Відновити чернетку",
    "#reject": "Відхилити…",
    "label[for=reject-reason]": "Чому відхилити? (це побачить той, хто візьме звернення)",
    "#reject-keys": "<kbd>Ctrl</kbd>+<kbd>Enter</kbd> відхилити · <kbd>Esc</kbd> скасувати",
    "#reject-form button[type=submit]": "Відхилити й передати людині",
    "#reject-cancel": "Скасувати",
    "#triage-title": "Тріаж",
    "#triage-caption": "Поля тріажу з упевненістю",
    "#th-field": "Поле",
    "#th-value": "Значення",
    "#th-confidence": "Упевненість",
    "#th-by": "Ким",
    "#decision-title": "Чому потрібна перевірка",
    "#routing-title": "Маршрутизація і терміни",
    "#docs-title": "Цитовані документи",
    "#retrieved-box summary": "Інші знайдені документи",
    "dialog .close": "Закрити <kbd>Esc</kbd>",
    "#help-title": "Клавіатурні скорочення",
    "#th-key": "Клавіша",
    "#th-does": "Дія",
    "#help-jk": "наступне / попереднє звернення в черзі",
    "#help-o": "відкрити вибране звернення",
    "#help-a": "схвалити чернетку як є",
    "#help-e": "редагувати: перейти до чернетки",
    "#help-ctrl-enter": "надіслати змінену чернетку (у полі причини: відхилити)",
    "#help-r": "відхилити: написати причину",
    "#help-esc": "закрити документ або цю довідку; скасувати відхилення; вийти з чернетки",
    "#help-help": "ця довідка",
    "#help-note":
      "Клавіші-літери не діють, поки ви пишете в текстовому полі; <kbd>Ctrl</kbd>+<kbd>Enter</kbd> та <kbd>Esc</kbd> діють завжди.",
  };

  // selector -> [attribute, Ukrainian]
  const ATTR_UK = {
    "#filters": ["aria-label", "Фільтри черги"],
    "#queue-list": ["aria-label", "Пропозиції, що очікують, від найстаріших"],
    ".draft": ["aria-label", "Чернетка і рішення"],
    "#doc-dialog .close": ["aria-label", "Закрити документ"],
    "#help-dialog .close": ["aria-label", "Закрити довідку"],
    "#doc-text": ["aria-label", "Текст документа"],
  };

  // what the script says; {name} is filled in
  const MESSAGES = {
    en: {
      title: "Review suggested replies · Support triage",
      all: "all",
      none: "none",
      no_subject: "(no subject)",
      signed_in: "Signed in",
      signed_out: "Signed out.",
      signing_in: "Signing in…",
      signed_in_waiting: "Signed in. {n} suggestion(s) waiting.",
      queue_failed: "Could not load the queue: {error}",
      open_failed: "Could not open {id}: {error}",
      received: "received {when}",
      status: "status: {status}",
      already_reviewed: "already reviewed: {action} by {who}",
      draft_language: "language {language}",
      not_grounded: "NOT grounded in the cited documents: check it",
      grounded: "grounded in the cited documents",
      field_category: "category",
      field_priority: "priority",
      field_language: "language",
      field_sentiment: "sentiment",
      field_risk: "risk",
      fact_action: "Action",
      fact_rules: "Rules",
      fact_queue: "Queue",
      fact_known_issue: "Known issue",
      fact_engineer: "Engineer",
      fact_client_tier: "Client tier",
      fact_first_response_due: "First response due",
      fact_resolution_due: "Resolution due",
      fact_why: "Why",
      no_citation: "The draft cites no document.",
      score: "{type}, score {score}",
      loading: "Loading…",
      sending: "Sending for {id}…",
      verdict_failed: "Could not {action} {id}: {error}",
      next: "Next: {id}.",
      no_more: "No more suggestions waiting.",
      approved: "Approved",
      unchanged: "No changes, approved as is:",
      edit_sent: "Sent your edit for",
      rejected: "Rejected and handed off",
      changed_draft: "You changed the draft: press Ctrl+Enter (Send edited) to send your text, or Restore the draft first.",
      empty_draft: "The draft is empty: write the reply, or reject the ticket.",
      need_reason: "Say why you reject it: the reason goes to whoever takes the ticket over.",
      unreachable: "the service cannot be reached ({error})",
      server_answered: "the server answered {status}",
      action_approve: "approve",
      action_edit: "send the edit for",
      action_reject: "reject",
    },
    uk: {
      title: "Перевірка запропонованих відповідей · Тріаж підтримки",
      all: "усі",
      none: "немає",
      no_subject: "(без теми)",
      signed_in: "Ви увійшли",
      signed_out: "Ви вийшли.",
      signing_in: "Вхід…",
      signed_in_waiting: "Ви увійшли. Пропозицій, що чекають: {n}.",
      queue_failed: "Не вдалося завантажити чергу: {error}",
      open_failed: "Не вдалося відкрити {id}: {error}",
      received: "отримано {when}",
      status: "стан: {status}",
      already_reviewed: "уже перевірено: {action}, {who}",
      draft_language: "мова {language}",
      not_grounded: "НЕ спирається на цитовані документи: перевірте",
      grounded: "спирається на цитовані документи",
      field_category: "категорія",
      field_priority: "пріоритет",
      field_language: "мова",
      field_sentiment: "настрій",
      field_risk: "ризик",
      fact_action: "Дія",
      fact_rules: "Правила",
      fact_queue: "Черга",
      fact_known_issue: "Відома проблема",
      fact_engineer: "Інженер",
      fact_client_tier: "Рівень клієнта",
      fact_first_response_due: "Перша відповідь до",
      fact_resolution_due: "Вирішення до",
      fact_why: "Чому",
      no_citation: "Чернетка не цитує жодного документа.",
      score: "{type}, оцінка {score}",
      loading: "Завантаження…",
      sending: "Надсилання для {id}…",
      verdict_failed: "Не вдалося {action} {id}: {error}",
      next: "Далі: {id}.",
      no_more: "Більше пропозицій не чекає.",
      approved: "Схвалено",
      unchanged: "Змін немає, схвалено як є:",
      edit_sent: "Надіслано вашу редакцію для",
      rejected: "Відхилено й передано людині",
      changed_draft:
        "Ви змінили чернетку: натисніть Ctrl+Enter (Надіслати змінене), щоб надіслати свій текст, або спершу відновіть чернетку.",
      empty_draft: "Чернетка порожня: напишіть відповідь або відхиліть звернення.",
      need_reason: "Напишіть, чому відхиляєте: причину побачить той, хто візьме звернення.",
      unreachable: "сервіс недоступний ({error})",
      server_answered: "сервер відповів {status}",
      action_approve: "схвалити",
      action_edit: "надіслати редакцію для",
      action_reject: "відхилити",
    },
  };

  const englishPage = {}; // selector -> the English HTML read from the page
  const englishAttrs = {}; // selector -> the English attribute value
  let current = "en";

  function stored() {
    try {
      return localStorage.getItem(LANG_STORE);
    } catch {
      return null; // storage blocked: the page still works, the choice is not remembered
    }
  }

  function initial() {
    const saved = stored();
    if (saved && LANGS.includes(saved)) return saved;
    return (navigator.language || "").toLowerCase().startsWith("uk") ? "uk" : "en";
  }

  function t(key, vars = {}) {
    const template = (MESSAGES[current] && MESSAGES[current][key]) || MESSAGES.en[key] || key;
    return template.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
  }

  function apply(lang) {
    current = LANGS.includes(lang) ? lang : "en";
    for (const [selector, uk] of Object.entries(PAGE_UK)) {
      for (const [i, el] of document.querySelectorAll(selector).entries()) {
        const key = `${selector}#${i}`;
        if (!(key in englishPage)) englishPage[key] = el.innerHTML;
        el.innerHTML = current === "uk" ? uk : englishPage[key];
      }
    }
    for (const [selector, [attr, uk]] of Object.entries(ATTR_UK)) {
      for (const [i, el] of document.querySelectorAll(selector).entries()) {
        const key = `${selector}#${i}`;
        if (!(key in englishAttrs)) englishAttrs[key] = el.getAttribute(attr) || "";
        el.setAttribute(attr, current === "uk" ? uk : englishAttrs[key]);
      }
    }
    document.documentElement.lang = current;
    document.title = t("title");
    const select = document.getElementById("ui-lang");
    if (select) select.value = current;
  }

  function set(lang) {
    apply(lang);
    try {
      localStorage.setItem(LANG_STORE, current);
    } catch {
      // not remembered; nothing else to do
    }
    document.dispatchEvent(new CustomEvent("review:language", { detail: current }));
  }

  window.ReviewI18n = { t, set, apply, lang: () => current, initial, LANGS };
})();

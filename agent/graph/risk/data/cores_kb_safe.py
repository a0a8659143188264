"""Hand-written ordinary passages about the PayFlow help-centre topics (knowledge/demo/kb, knowledge/demo/rca).

The detector flagged ordinary how-to tickets about the product's own topics (an ЕЛН to register, a
PF-7001 card decline, a leave approval to undo, a password or 2FA reset, an API token, a rejected bank
file, a tax-report export) because it had too few ordinary tickets about them. For each article a few
customer-worded questions or problems, English and Ukrainian, that need no safety handoff: nothing
done by someone else, no money paid wrongly, no authority request or actual fine, no threat. Their
risky counterparts on the same topics are in cores_kb_risky.py. Written blind (no held-out split, no
eval set); `build.py` wraps them like the others.
"""

from __future__ import annotations

# (language, text)
SAFE_KB: list[tuple[str, str]] = [
    # ---- KB-001 reset password / locked account ---------------------------------------------------------
    ("en", "I typed my password wrong a few times and now it says \"Account locked (PF-1003)\". Do I just wait, or can someone unlock me now?"),
    ("en", "Forgot my password again, sorry. Where's the reset link? I can't see it on the login page on my phone."),
    ("en", "One of our line managers locked herself out right before timesheet approval. I'm an admin, can I unlock her without changing her password?"),
    ("uk", "Забула пароль, натиснула «Забули пароль?», а лист для відновлення не приходить уже хвилин двадцять. У спамі теж нема."),
    ("uk", "Пише Account locked PF-1003, я кілька разів ввела не той пароль. Скільки чекати, поки саме розблокується?"),
    ("uk", "Новий пароль не приймає, пише що такий уже був. Які там вимоги — скільки символів і чи обов'язково спецзнак?"),
    # ---- KB-002 lost / replaced 2FA phone -----------------------------------------------------------------
    ("en", "Got a new iPhone over the weekend and the authenticator codes didn't come across. I've got my recovery codes printed somewhere, where do I enter one?"),
    ("en", "The 6-digit code keeps coming back as PF-1010 invalid even though it's the right phone and the right app. Could the phone's clock be off?"),
    ("en", "Our warehouse supervisor dropped his phone in a puddle and of course has no recovery codes. As an admin, can I reset his two-factor myself?"),
    ("uk", "Поміняла телефон, а Google Authenticator не переніс коди. Як мені тепер зайти, кодів відновлення я не зберігала."),
    ("uk", "Чи можна отримувати код двофакторки по SMS, а не через додаток? У нашої бухгалтерки дуже старий телефон."),
    ("uk", "Я єдиний власник акаунта компанії, телефон з автентифікатором розбився, а коди відновлення були на ньому ж. Скільки займе перевірка особи?"),
    # ---- KB-003 SSO / SAML setup ------------------------------------------------------------------------
    ("en", "We're on Growth and the Single sign-on page just says \"Upgrade required\". Is SSO really Enterprise only?"),
    ("en", "Test connection fails with PF-1021 audience mismatch. I think I put the wrong Entity ID into Entra, what exactly should it be?"),
    ("en", "Our Okta signing certificate rotates next month. How much notice do you need so nobody gets locked out on the day?"),
    ("uk", "Налаштовую SAML через Google Workspace, тест підключення видає PF-1023 User not found. У PayFlow пошта людини з великої літери, може в цьому справа?"),
    ("uk", "Хочемо, щоб усі заходили через Microsoft, а не по паролю. Коли вмикати Enforce SSO і чи треба для цього писати вам?"),
    ("uk", "Після того як увімкнемо SSO, в нас лишиться хоч один вхід з паролем на випадок, якщо Entra ляже?"),
    # ---- KB-004 add users, roles, access for a new user ----------------------------------------------------
    ("en", "Our external accountant needs to see pay run summaries and the accounting export, but shouldn't be able to change anything. Which role is that?"),
    ("en", "Invited our new HR manager last week, she never clicked the link and now it says expired. How do I send it again?"),
    ("en", "Do admin users cost extra seats? We want to give five line managers access just for leave approvals."),
    ("uk", "Прийшла нова бухгалтерка, треба дати їй доступ до відомостей, але без кадрових документів. Яку роль обрати?"),
    ("uk", "Кадровичка звільнилась, я деактивувала її в «Персоналі». Її користувач для входу тепер теж не працює, чи це треба робити окремо?"),
    ("uk", "Як дати керівнику складу доступ тільки до табелів його людей, щоб він не бачив ЗП інших підрозділів?"),
    # ---- KB-005 pay run stuck in Calculating -------------------------------------------------------------
    ("en", "The November run has said \"Calculating\" for 40 minutes and we've only got 85 people. Refreshing does nothing."),
    ("en", "The calculation log shows PF-2041 Missing tax settings for two new starters. Once I fill those in, do I have to restart the whole calculation?"),
    ("en", "Would it be quicker to just create a second pay run for the same month? This one has been stuck since lunch and I'm running out of patience."),
    ("uk", "Зарплата за жовтень вже пів години крутиться на «Розрахунку», хоча людей у нас 60 і раніше рахувало за хвилину. Оновлення сторінки нічого не дає."),
    ("uk", "В журналі розрахунку PF-2043 Unapproved timesheets, хоча я думала, що всі табелі затверджені. Де глянути, які саме ні?"),
    ("uk", "Якщо я скасую розрахунок, чи не злетять премії, які я вже внесла? Не хочу все забивати заново."),
    ("en", "Our pay run for the Leeds group is stuck at \"Calculating\" and the log says PF-2040 Calculation timeout, nothing else. It's month-end and three other entities are calculating at the same time. Should I just cancel and run it again?"),
    # ---- KB-006 off-cycle pay run ------------------------------------------------------------------------
    ("en", "We want to pay a Christmas bonus on 19 December, separately from the main run. How do I set up an off-cycle for 30 people from a CSV?"),
    ("en", "Can a bonus be entered as a net amount, so each person gets exactly £500 in hand?"),
    ("en", "We forgot to add Tom's commission before the October run was approved. Can I pay it as an off-cycle this week instead of waiting for November?"),
    ("uk", "Треба виплатити премію до Нового року окремо від основної ЗП. Як зробити позапланову відомість і чи ПДФО з ВЗ порахуються разом з основною?"),
    ("uk", "ЄСВ у позаплановій відомості рахує максимальну базу разом з основною за місяць чи окремо? Не хочу переплатити."),
    ("uk", "Скільки позапланових відомостей можна зробити за місяць? У нас комісійні щотижня."),
    # ---- KB-007 correcting a paid payroll (allocation, process) --------------------------------------------
    ("en", "The October run is paid and every amount is right, but twelve people were booked to the wrong cost centre. Can that be fixed without touching the payments?"),
    ("en", "Just so I know for the future: if we ever spot a mistake after a run is marked Paid, who on our side is allowed to request the correction?"),
    ("en", "Why can't I edit a paid pay run? I only want to change the department on three lines so the accounting export matches our budget codes."),
    ("uk", "Відомість за вересень уже виплачена, суми правильні, але двох працівників рознесли не на той підрозділ. Як виправити тільки розподіл витрат?"),
    ("uk", "Якщо колись треба буде виправити вже виплачену відомість — це робите ви чи ми самі? Пишу інструкцію для нової бухгалтерки."),
    ("uk", "Чому після статусу «Виплачено» кнопка редагування сіра? Хотіла поміняти статтю витрат для проводок, суми не чіпаю."),
    # ---- KB-008 approval and bank cut-off, undoing an approval --------------------------------------------
    ("en", "Tried to approve this morning and got \"PF-2050 Cut-off passed for the selected payment date\". Payday is Friday and we pay by BACS. What are my options?"),
    ("en", "What's the latest I can approve for a SEPA payday on the 28th?"),
    ("en", "Our run needs two approvers because it's over 500k. Can that threshold be changed in settings?"),
    ("uk", "До котрої треба затвердити відомість, щоб ЗП пішла 25-го через Ощад? Файл ми вивантажуємо і грузимо в банк самі."),
    ("uk", "Затвердила відомість, файл для банку ще не вивантажувала, і тут бачу, що забула додати премію. Можна відкликати затвердження?"),
    ("uk", "Нагадування про кут-оф приходять тільки мені, а треба ще головбуху. Як її додати?"),
    ("en", "I approved the run yesterday and haven't exported the bank file yet. Our finance lead wants one more look at the numbers first, can I pull the approval back?"),
    # ---- KB-009 resend a payslip ---------------------------------------------------------------------
    ("en", "A driver says his payslip email never turned up. The Delivery column says Bounced, so I'm guessing we have his address wrong?"),
    ("en", "Can I resend the whole September run's payslips to the new personal emails people gave us last week?"),
    ("uk", "Працівниця випадково видалила лист з розрахунковим за жовтень і просить надіслати ще раз. Де це зробити?"),
    ("uk", "Пароль до PDF розрахункового листа — це дата народження? Працівник не може відкрити файл, каже що не підходить."),
    ("uk", "У колонці доставки стоїть PF-3001 Delivery failed: mailbox unavailable. Пошту я вже виправила, можна відправити повторно?"),
    ("en", "Payslip PDFs suddenly ask for a password and half our staff have no idea what it is. Where can I see the password format we set?"),
    # ---- KB-010 download payslips ------------------------------------------------------------------------
    ("en", "Our auditor wants all payslips for last year. Is there a way to pull a whole year at once rather than run by run?"),
    ("en", "I left the company in spring and need my payslips for a mortgage application. Can I still log in and download them?"),
    ("en", "An employee can't see this month's payslip in the app, though I can see it fine as an admin."),
    ("uk", "Як вивантажити всі розрахункові листи за відомість одним архівом? Треба передати аудиторам до п'ятниці."),
    ("uk", "Працівник каже, що в застосунку немає листа за листопад. Відомість затверджена. Шо може бути?"),
    ("uk", "Посилання на архів розрахункових за пів року вже не відкривається. Скільки воно взагалі діє?"),
    # ---- KB-011 Ukrainian payslip template, language, PDF password ----------------------------------------
    ("en", "We have a few foreign staff at our Kyiv entity. Can their payslips be bilingual, Ukrainian and English?"),
    ("en", "Is it possible to show the employer's 22% ЄСВ on the Ukrainian payslip, just for information?"),
    ("uk", "Як зробити, щоб пароль до PDF розрахункового був не дата народження, а останні 4 цифри ІПН?"),
    ("uk", "Хочемо, щоб у розрахунковому листі був залишок днів відпустки. Де це вмикається?"),
    ("uk", "Змінила шаблон розрахункового, а за вже затверджену відомість листи старого вигляду. Можна перевидати, не міняючи суми?"),
    # ---- KB-012 ЄСВ settings ------------------------------------------------------------------------
    ("en", "One of our Ukrainian employees has a disability certificate. Where do I set the reduced 8.41% ЄСВ rate for her?"),
    ("en", "The minimum wage in the ЄСВ settings of our Ukrainian entity looks like last year's figure. Do I need to update it myself?"),
    ("uk", "Працівнику з інвалідністю треба ЄСВ 8,41%. Куди вносити номер і дату довідки МСЕК?"),
    ("uk", "Сумісниці доначисляє ЄСВ до мінімального внеску, а не повинно ж. Де це вимкнути?"),
    ("uk", "У нас хлопця мобілізували, місце роботи за ним зберігається. Яку категорію ставити, щоб ЄСВ не рахувався?"),
    # ---- KB-013 ПДФО, військовий збір, ПСП ------------------------------------------------------------
    ("en", "For our Ukrainian entity, is the military levy 5% now or still 1.5%? I want to check before I approve the draft."),
    ("en", "Does the tax social benefit (ПСП) reduce the military levy too, or only ПДФО?"),
    ("uk", "У трьох працівників у відомості ВЗ 1,5%, а не 5%. Це після імпорту зі старої програми, відомість ще не затверджена. Як поправити?"),
    ("uk", "Працівниця принесла заяву на ПСП на двох дітей. Куди її завантажити і як увімкнути пільгу?"),
    ("uk", "Чому ПСП не застосувалась до прибиральниці, в неї ж маленька ЗП? Чи це через премію цього місяця?"),
    # ---- KB-014 податковий розрахунок export --------------------------------------------------------------
    ("en", "Our Ukrainian accountant asks where to export the quarterly tax calculation, the one that replaced 1DF. Which menu is it under?"),
    ("en", "The tax calculation XML doesn't include October's payroll. That run is still a draft, is that why?"),
    ("uk", "Як вивантажити податковий розрахунок за III квартал в XML, щоб завантажити в M.E.Doc?"),
    ("uk", "При формуванні розрахунку на вкладці «Перевірка» пише «Відсутній РНОКПП» у двох людей. Де його заповнити?"),
    ("uk", "Хочемо здати розрахунок вчасно, щоб потім не було штрафів. До якого числа його подають і чи потрапляють туди чернетки?"),
    # ---- KB-015 year-end tax forms (P60, W-2, T4) --------------------------------------------------------
    ("en", "An employee lost her P60 for 2024/25. Can she download a copy herself?"),
    ("en", "Our employee changed her surname after the tax year closed and wants her P60 in the new name. The figures are the same, what's the process?"),
    ("en", "How long does a W-2c usually take? I'd like it done well before the deadline so we don't end up with a late-filing penalty."),
    ("uk", "Працівник нашої британської філії просить копію P60 за минулий рік. Де її знайти?"),
    ("uk", "Чи можна самій змінити дані в закритому податковому році? На формі в працівника стара адреса."),
    ("uk", "Скільки днів займає перевипуск T4 для канадської працівниці, яка змінила прізвище?"),
    # ---- KB-016 Xero / QuickBooks sync errors ---------------------------------------------------------
    ("en", "Xero sync has said PF-4201 Connection expired ever since our bookkeeper left. Who needs to reconnect it?"),
    ("en", "The sync failed with PF-4205 Account mapping missing after we added a new travel allowance. Where's the mapping screen?"),
    ("en", "Journals land in Xero as drafts and our accountant posts them by hand every month. Can they go in as posted?"),
    ("uk", "Синхронізація з QuickBooks не пройшла, пише PF-4207 Period locked. Бухгалтер закрив період, як тепер бути?"),
    ("uk", "Якщо натисну Retry на невдалій синхронізації з Xero, вона не задублює проводку?"),
    # ---- KB-017 API tokens, scopes, rate limits -----------------------------------------------------------
    ("en", "Our integration started getting 429s with PF-4012 during the nightly sync. What are the actual limits?"),
    ("en", "The token for our HRIS sync expires next week. Is there a way to rotate it without any downtime?"),
    ("en", "I created an API token yesterday, forgot to copy it, and now I can't see it anywhere. Do I need to make a new one?"),
    ("uk", "Наш розробник отримує PF-4031 Missing scope, коли пробує записувати табелі через API. Який скоуп додати?"),
    ("uk", "Як створити API-токен тільки на читання працівників і обмежити його IP-адресою нашого сервера?"),
    ("uk", "API повертає PF-4010 Token expired. Токен робили рік тому, який у них максимальний строк дії?"),
    ("en", "Where can I see which of our API tokens are still actually being used? I'd like to revoke the old test ones as a bit of a tidy-up."),
    # ---- KB-018 BAS / 1С postings ---------------------------------------------------------------------
    ("en", "Our Ukrainian accountant uses BAS and wants the payroll postings to arrive automatically. Does that need their database published as a web service?"),
    ("uk", "Вивантаження проводок у BAS пише «Не знайдено рахунок 661». У плані рахунків у нас субрахунок 661.1, як їх зіставити?"),
    ("uk", "Якщо я вдруге вивантажу ту саму відомість у BAS, буде дубль документа?"),
    ("uk", "Як зробити, щоб ВЗ ішов на 642, а ПДФО на 641? Зараз обидва падають на 641."),
    # ---- KB-019 bank file rejected ---------------------------------------------------------------------
    ("en", "The bank rejected the salary file with \"Record 37: invalid sort code/account combination\". Nothing has been paid. Can I just fix line 37 in the file myself?"),
    ("en", "Our SEPA portal says Invalid file structure for the pain.001 export. Payday is Thursday, what do you need from me to regenerate it?"),
    ("uk", "Банк не прийняв зарплатний реєстр, пише «Невідповідність контрольної суми реєстру». Жодна виплата не пройшла. Що робити?"),
    ("uk", "Ощад відхилив файл через одного працівника з неправильним IBAN. Можна відправити всіх, крім нього, а йому потім окремо?"),
    ("uk", "Можна я просто вивантажу файл ще раз і загружу в банк? Перший відхилили з якоюсь помилкою структури."),
    ("en", "Bank file came back rejected again this month, and honestly I'm getting fed up. Same 'invalid file structure' error as last time. Nothing has been paid and payday is in two days, just tell me what to send you."),
    # ---- KB-020 mobile clock-in ---------------------------------------------------------------------
    ("en", "Staff at our new depot get \"PF-5010 You are outside the allowed location\" even when they're standing in the yard."),
    ("en", "One of our cleaners doesn't have a smartphone. How is she supposed to clock in?"),
    ("en", "If the phone has no signal down in the basement stores, does the clock-in still count?"),
    ("uk", "Працівники на новому складі не можуть відмітитися, пише що поза дозволеною локацією. Радіус стоїть 200 м, може його збільшити?"),
    ("uk", "Хлопець учора забув відмітити вихід. Як керівнику поправити це в табелі?"),
    ("en", "The kiosk tablet at our front desk shows the wrong site name when people clock in. Where do I change which location it belongs to?"),
    # ---- KB-021 timesheet approval ---------------------------------------------------------------------
    ("en", "Can I approve all my team's timesheets at once? Clicking through 45 of them one by one is painful."),
    ("en", "I'm off for two weeks from Monday. How do I let my deputy approve timesheets while I'm away?"),
    ("en", "A timesheet I approved got locked at the payroll cut-off and now one shift needs changing. Who can unlock it?"),
    ("uk", "Як масово затвердити табелі? Частина пропускається з помилками, це нормально?"),
    ("uk", "Затвердила табель не тій людині, переплутала прізвища. Можна відкликати затвердження до розрахунку ЗП?"),
    ("uk", "Керівник не може сам собі затвердити табель, так і має бути? Хто тоді його затверджує?"),
    ("en", "Some timesheets were skipped when I clicked Approve selected, flagged as more than 12 hours in a day. It's a genuine double shift, how do I approve it anyway?"),
    # ---- KB-022 overtime rules ------------------------------------------------------------------------
    ("en", "Can overtime be paid only once the manager has approved it on the timesheet? We don't want automatic time and a half for every extra quarter hour."),
    ("en", "Overtime shows on the timesheet but it's not in the draft pay run. What am I missing?"),
    ("uk", "Як налаштувати надурочні в подвійному розмірі для нашої української юрособи і окремо нічні години?"),
    ("uk", "Офісним на окладі не треба нараховувати понаднормові. Як їх виключити з правила?"),
    ("uk", "Чи не буде подвійного рахунку, якщо в один день спрацює і денне, і тижневе правило?"),
    # ---- KB-023 табель П-5 ------------------------------------------------------------------------
    ("en", "Our Kyiv office manager asks for the P-5 timesheet form in Excel so she can tweak the layout. Is there an XLSX option?"),
    ("uk", "Як сформувати табель П-5 за листопад по одному підрозділу для підпису?"),
    ("uk", "У табелі П-5 деякі клітинки червоні, там немає відмітки виходу. Де це правити?"),
    ("uk", "В табелі підписантом досі стоїть стара кадровичка. Як змінити відповідальну особу?"),
    # ---- KB-024 leave requests: approve, reject, cancel, undo ------------------------------------------
    ("en", "I approved a holiday request by mistake, it was meant to be for a different week. How do I undo that?"),
    ("en", "Can leave longer than 10 days go to HR for a second approval after the manager has said yes?"),
    ("en", "Requests to one of our managers have been sitting there for a week. Do they escalate to HR automatically at some point?"),
    ("uk", "Помилково погодила відпустку не на ті дати. Як скасувати вже погоджену відпустку?"),
    ("uk", "Як змінити, хто погоджує відпустки працівнику? У нього з понеділка новий керівник."),
    ("uk", "Працівниця хоче скасувати погоджену відпустку на наступний місяць. Вона може це зробити сама в застосунку?"),
    ("en", "Her manager rejected an employee's leave request by mistake. Can it be reopened, or does she have to submit it all over again?"),
    # ---- KB-025 leave balance not updated ---------------------------------------------------------------
    ("en", "Leave was approved for next month but the employee's balance hasn't gone down. Is that a bug?"),
    ("en", "We've moved over from a spreadsheet and need to add carried-over days for 20 people. How do I adjust their balances?"),
    ("uk", "Погодили відпустку на грудень, а баланс у працівника не змінився. Чому?"),
    ("uk", "Ми поміняли правила нарахування в політиці відпусток. Як тепер перерахувати залишки всім?"),
    ("en", "One of our part-timers shows 28 days' holiday, the same as the full-timers. Shouldn't that be pro rata?"),
    # ---- KB-026 лікарняний з ЕЛН ---------------------------------------------------------------------
    ("en", "What's the process for adding an employee's electronic sick note (ELN) for our Lviv staff? I've never done one in PayFlow."),
    ("en", "The automatic ELN import asks for a qualified e-signature key. Whose key should we upload, the director's or HR's?"),
    ("uk", "Як внести ЕЛН працівника вручну, якщо автоматично не підтягнувся?"),
    ("uk", "Лікарняний у відомості не нарахувався, хоча ЕЛН видно в календарі. Він ще відкритий — це через це?"),
    ("uk", "Хто платить перші 5 днів лікарняного і як це видно у відомості? Директор питає, бо в нього два хворих відразу."),
    ("uk", "Де сформувати заяву-розрахунок для ПФУ по лікарняному? Шукаю вже пів години."),
    # ---- KB-027 залишок щорічної відпустки -------------------------------------------------------------
    ("en", "Annual leave for our Ukrainian staff seems capped at 24 days. Is that the martial law setting in the policy?"),
    ("uk", "Чому в працівниці залишок рахується з березня, а не з січня? Вона в нас з 15.03.2024, і цифри не сходяться з нашим Excel."),
    ("uk", "Перейшли зі старої програми. Як внести невикористані дні відпустки за минулі роки?"),
    ("uk", "Для працівників на шкідливому виробництві треба додаткову відпустку. Це окрема політика чи можна в стандартну додати?"),
    # ---- KB-028 download invoices --------------------------------------------------------------------
    ("en", "Our auditors want every PayFlow invoice for 2024. Can I download them all in one go?"),
    ("en", "Can new invoices go straight to our accounts payable mailbox each month, so I stop forwarding them?"),
    ("en", "I can't see the Billing section at all. Do I need a particular role for that?"),
    ("uk", "Де скачати рахунок і акт наданих послуг за жовтень? Бухгалтерія вже двічі нагадувала."),
    ("uk", "Як додати номер замовлення (PO) на рахунки, щоб їх приймала наша фінслужба?"),
    ("en", "Our invoices still show the old billing address. I've updated Billing details now, will that fix past invoices too or only new ones?"),
    # ---- KB-029 plan, seats, payment card (PF-7001) --------------------------------------------------------
    ("en", "Payment failed with PF-7001 Card declined when our subscription renewed. We have a new company card, how do I swap it in?"),
    ("en", "We want to go from Starter to Growth in the middle of the month. How is that charged?"),
    ("en", "I'm trying to drop our seats from 80 to 60 and it won't let me go below 72. Why?"),
    ("uk", "Оплата підписки не пройшла, пише PF-7001 Card declined. Картку вже поміняли, як тепер оплатити прострочений рахунок?"),
    ("uk", "Банк блокує списання за кордон, тому платіж за підписку відхилили. Що саме сказати банку, щоб дозволив?"),
    ("uk", "Якщо не оплатимо до кінця тижня, нас заблокують? Нам же ЗП рахувати 25-го."),
    ("en", "PF-7001 again on the monthly charge. The card isn't expired and has plenty of limit, so is our bank blocking a foreign payment?"),
    # ---- KB-030 refunds, credit notes, cancelling ---------------------------------------------------------
    ("en", "We're closing one of our two entities. Can its annual plan be cancelled early with some kind of credit?"),
    ("en", "If we cancel the monthly plan, how long can we still get in to download payslips and reports?"),
    ("en", "We removed ten seats halfway through the year. Do we get a credit note, or does it just show on the next invoice?"),
    ("uk", "Нашу компанію купили, хочемо скасувати річний тариф достроково. Як подати запит?"),
    ("uk", "Як отримати кредит-ноту за місця, які ми прибрали посеред періоду?"),
    # ---- KB-031 legal entity change ----------------------------------------------------------------------
    ("en", "We've renamed from Northwind Logistics Ltd to Northwind Group Ltd, same company number. Where do I change the name on the invoices?"),
    ("en", "From April our staff move to a new entity under TUPE. How early do we need to start the process with you?"),
    ("uk", "Працівників переводять у нове ТОВ з іншим кодом ЄДРПОУ. Що потрібно від нас і скільки часу це займе?"),
    ("uk", "Можна перевипустити старі рахунки з новою назвою компанії? Бухгалтер просить для архіву."),
    ("uk", "ФОП змінив адресу реєстрації. Де поміняти її на рахунках?"),
    # ---- KB-032 bulk CSV import errors --------------------------------------------------------------------
    ("en", "Validation stops at PF-6001 Missing required column, but tax_id is definitely there. Could it be because I renamed the header to \"Tax ID\"?"),
    ("en", "Names in the import preview show up as ???? for all our Ukrainian staff. What did I do wrong?"),
    ("uk", "Імпорт з CSV видає PF-6004 Invalid tax ID, хоча РНОКПП начебто правильні. Може, Excel з'їв нуль на початку?"),
    ("uk", "Одна помилка у файлі — і не імпортується взагалі нічого? Я думала, хоч решта завантажиться."),
    ("uk", "Як оновити посади масово через імпорт, щоб не затерлися інші поля?"),
    # ---- KB-033 updating employee details, bank account changed by the employee -----------------------------
    ("en", "An employee got married and changed her surname. How do I update it and reissue last month's payslip in her new name?"),
    ("en", "Our employee put her new bank details in through the app, but the draft run still shows the old account. Do I need to approve something first?"),
    ("en", "Why did every payroll manager get an email when I changed one person's bank account? Is that normal?"),
    ("uk", "Працівник змінив банк і приніс нові реквізити. З якої дати їх вказати, щоб ЗП 25-го вже пішла на новий рахунок?"),
    ("uk", "Працівниця подала зміну адреси в застосунку, а в розрахунковому досі стара. Де це погодити?"),
    ("en", "A new starter wrote the wrong account number on his form. Payroll hasn't run yet and I've got the correct number now, do I just overwrite it?"),
    # ---- KB-034 terminating an employee ---------------------------------------------------------------
    ("en", "Someone is leaving on Friday. How do I terminate him and include his unused holiday in the final pay?"),
    ("en", "I terminated the wrong employee, there are two people with the same surname. Final pay isn't approved yet, can I reverse it?"),
    ("uk", "Як звільнити працівника за власним бажанням і зробити остаточний розрахунок у день звільнення?"),
    ("uk", "Де знайти наказ про звільнення і довідку про доходи, коли людину вже звільнили в системі?"),
    ("uk", "У звільненого працівника лишається доступ до застосунку? Він хоче ще качати свої розрахункові."),
    ("en", "I terminated someone with the wrong leaving date, the 30th instead of the 31st. The final pay run is only a draft, how do I fix it?"),
    # ---- KB-035 employee data deletion / data subject requests --------------------------------------------
    ("en", "A former employee has asked us to delete all her data under GDPR. What do we do in PayFlow, can I simply delete her record?"),
    ("en", "An ex-employee asked for a copy of everything we hold on him. How long does the export take?"),
    ("uk", "Колишній працівник просить видалити його персональні дані. Можна просто видалити картку?"),
    ("uk", "Скільки років треба зберігати дані по зарплаті звільнених? Хочемо трохи почистити систему."),
    # ---- KB-036 custom report builder ------------------------------------------------------------------
    ("en", "I need a report with department, job title, salary and start date in one place. None of the standard ones has all four."),
    ("en", "Can a saved report be emailed to our CFO every Monday at 8am as an Excel file?"),
    ("uk", "Як зробити свій звіт по працівниках з окладом і датою прийняття, щоб він приходив раз на місяць на пошту?"),
    ("uk", "Поділилася звітом з керівником відділу, а він не бачить колонку з окладами. Чому?"),
    ("en", "Our scheduled report arrives as a download link instead of an attachment now. Is that because it has salaries in it?"),
    # ---- KB-037 headcount report -----------------------------------------------------------------------
    ("en", "I need headcount and FTE by department as of 30 September for the board pack. Where do I get that?"),
    ("en", "Does the headcount report count people on maternity leave? We show them separately."),
    ("uk", "Як вивантажити звіт по чисельності на кінець кварталу в розрізі юросіб?"),
    ("uk", "Чисельність у звіті не збігається з кількістю місць у рахунку. Чому так?"),
    ("en", "I need the headcount trend month by month for 2025, split by location, as a CSV. Is that in the standard report or do I need the builder?"),
    # ---- KB-038 зведена відомість ---------------------------------------------------------------------
    ("en", "Our accountant in Kyiv needs a payroll summary by department for the quarter to reconcile with BAS. Which report is that?"),
    ("uk", "Зведена відомість не сходиться з 4ДФ по ПДФО за квартал. Я так розумію, це через дату виплати?"),
    ("uk", "Як у зведеній відомості врахувати ще й чернетку за грудень?"),
    ("uk", "Потрібна зведена по підрозділах з ЄСВ роботодавця, щоб звірити з BAS. Де її сформувати?"),
    # ---- RCA-001 blank payslip PDF for names with an apostrophe --------------------------------------------
    ("en", "Payslips for two of our Ukrainian employees open as blank white pages. Both have an apostrophe in their names, coincidence?"),
    ("uk", "Розрахунковий лист Мар'яни відкривається порожнім, у решти все ок. Що з ним не так?"),
    ("uk", "В'ячеслав каже, що в застосунку його лист пише «Документ не вдалося відобразити». Сума там хоч правильна?"),
    # ---- RCA-002 ЄСВ 1 kopeck difference ------------------------------------------------------------------
    ("en", "The Ukrainian tax XML has a 1-kopeck ЄСВ difference for a few people and Vchasno won't import it. We haven't filed yet, the deadline is in February."),
    ("uk", "M.E.Doc при імпорті розрахунку видає помилку контролю по ЄСВ, розбіжність 0,01. Звіт ще не подавали."),
    ("uk", "Копійка різниці ЄСВ в додатку 1 у тих, у кого в одному місяці лікарняний і ЗП. Можна просто руками поправити XML?"),
    # ---- RCA-003 night shifts across the clock change ---------------------------------------------------
    ("en", "Night shifts on 25-26 October show an hour too many on the timesheets. Nothing is approved yet, should I hold off?"),
    ("en", "The night premium appears twice for the same shift in the draft run, only for people who use the kiosk."),
    ("uk", "Нічна зміна в ніч переведення годинника показує зайву годину в табелі. Табелі ще не затверджували, чекати виправлення?"),
    # ---- RCA-004 duplicate Xero journals -----------------------------------------------------------------
    ("en", "We have the same payroll journal twice in Xero for September. Is there a way to void the extra one from PayFlow?"),
    ("uk", "В Xero задвоїлись проводки по зарплаті за вересень. Це та помилка з токеном, яку ви вже виправили? Як прибрати дублі?"),
    ("en", "After that Xero token refresh bug, do I need to do anything about our October journals? We're on the latest version."),
    # ---- RCA-005 Android 15 clock-in ------------------------------------------------------------------
    ("en", "Since the Samsung update, half the shop floor gets PF-5003 Location unavailable although location is definitely on."),
    ("uk", "На Android 15 не можуть відмітитись, пише Location unavailable, хоча геолокація ввімкнена."),
    ("uk", "Працівникам з Pixel пише PF-5003 при відмітці. Які налаштування в телефоні поміняти?"),
    # ---- RCA-006 PrivatBank salary file rejected -----------------------------------------------------------
    ("en", "Our Ukrainian entity's PrivatBank salary upload keeps failing with \"field PURPOSE is required\". Nothing has gone out yet, payday is Friday."),
    ("uk", "Приват24 не приймає зарплатний файл, пише відсутнє поле PURPOSE. Виплата в п'ятницю, гроші ще не пішли."),
    ("uk", "Файл для Привату вивантажили ще до 3 листопада, тепер і його не приймають. Коли буде новий формат?"),
    # ---- RCA-007 SSO login loop in Safari --------------------------------------------------------------
    ("en", "SSO on Safari sends me back to the login page over and over, then shows PF-1024 Too many redirects. Chrome is fine."),
    ("en", "Which URL should our Mac users bookmark so the Safari login loop stops?"),
    ("uk", "На маку в Safari вхід через Okta зациклюється. Кукі чистила, не допомогло."),
    # ---- RCA-008 part-time leave accrual --------------------------------------------------------------
    ("en", "Since we moved Sara to 0.6 FTE in September her holiday hasn't accrued at all. The history shows 0.00 every month."),
    ("uk", "Касирку з вересня перевели на 0,6 ставки, і відтоді в історії відпусток щомісяця стоїть 0,00. Як донарахувати пропущені дні?"),
    # ---- RCA-009 API 502 beyond page 50 --------------------------------------------------------------
    ("en", "Our sync gets 502 Bad Gateway on /v2/employees from page 51 onwards. Everything before that works."),
    ("uk", "API віддає 502 на 51-й сторінці і далі, коли вигружаємо працівників. Це не ліміт? Retry-After нема."),
    # ---- RCA-010 headcount counts rehires twice -------------------------------------------------------
    ("en", "The headcount report shows 214 but we have 211 active employees. The difference looks like our rehires."),
    ("uk", "У звіті по чисельності повторно прийняті працівники рахуються двічі. Можете дати правильну вигрузку на 30.11?"),
    ("en", "We rehired four seasonal pickers in October and now the headcount is four too high. Is a fix coming, or can you send us a corrected export for 31 October?"),
]

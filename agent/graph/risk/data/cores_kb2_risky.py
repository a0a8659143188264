"""Second batch of hand-written risky passages about the PayFlow help-centre topics (knowledge/demo/kb, knowledge/demo/rca).

The counterparts of cores_kb2_safe.py: the same topics and words (2FA reset, recovery codes, SSO,
roles, API tokens, payslip e-mails, a rejected bank file, an off-cycle bonus, final pay, ЕЛН, ЄСВ, the
tax calculation, deductions), but with a fact a human must handle: somebody else acted, a secret
reached other people, money already moved wrongly, personal data reached the wrong people, an
authority demanded or fined, a legal claim, a threat or harassment, an executive or public
escalation. About half avoid their kind's obvious keywords, and some carry the risk as one clause
of an otherwise ordinary how-to message, hedged, second-hand or terse. Written blind (no held-out
split, no eval set), no text repeating a line of the other cores.

NOT in the training set yet (`build.py` does not read this file or cores_kb2_safe.py). Two models
were trained with both (2026-12-04). The first raised the held-out recall (rules OR model 0.656 ->
0.743 on the 2026-12-03 test split, precision 0.954 -> 0.934) but handed off 'payslip not received'
tickets as payment fraud (P 0.85-0.91: smoke S053 and S063, the hard negative of
tests/unit/test_risk_detector.py), which the integration tests forbid: the risky batch has payslips
and salaries redirected by someone else. The second, with the last 40 ordinary ones of cores_kb2_safe.py (payslip
e-mails not received, resent, bounced; written by the main session), kept the smoke set's ordinary
tickets unflagged but still flagged that hard negative (0.848 at its threshold 0.812; its subject
line 'Payslip not received' alone is the riskiest piece). Neither was shipped.
"""

from __future__ import annotations

# ruff: noqa: E501
# fmt: off
# (kind, language, text)
RISKY_KB2: list[tuple[str, str, str]] = [
    # ---- account_takeover / en ----------------------------------------------------------------------
    ("account_takeover", "en", "How do I generate new recovery codes? I ask because my authenticator was reset on Tuesday by one of our Admins 'at my request', and I never asked anyone, I was at a conference all day with my phone in my pocket."),
    ("account_takeover", "en", "Quick one about the Safari SSO loop, which URL should we bookmark? Also, possibly unrelated, our Okta logs show a sign-in to PayFlow as our payroll manager from a hotel in Lisbon while she was at her desk in Leeds."),
    ("account_takeover", "en", "My colleague Anika says she got the 'set up two-factor authentication again' email although nobody here reset her 2FA, and when she looked, her phone was no longer listed as the authenticator."),
    ("account_takeover", "en", "PF-1003 on my account at 3am: forty failed attempts, then a successful one. Not me."),
    ("account_takeover", "en", "Can I change which address my payslips go to? Mine was switched to an unfamiliar gmail address last Thursday, and the change request shows as approved under my own login, which I didn't do."),
    ("account_takeover", "en", "The API usage page shows a token called backup-export pulling payroll data from an IP in Vietnam. I'm the only Owner and I never created it."),
    ("account_takeover", "en", "I'm setting up delegates for Christmas cover and noticed my account already has one for all of December, a user called j.kerr I've never heard of. I didn't add anybody."),
    ("account_takeover", "en", "I think my account has been taken over: the whole Bristol site's timesheets were approved from my login while I was on a plane."),
    ("account_takeover", "en", "How long do PayFlow sessions last? Our finance director's laptop was stolen from her car on Saturday and the audit log shows reports being opened from her session ever since."),
    ("account_takeover", "en", "Our former office manager's user was deactivated in August, but the audit log shows it reactivated and signing in last night. None of our admins did that, so is this a hacked account?"),
    # ---- account_takeover / uk ----------------------------------------------------------------------
    ("account_takeover", "uk", "Як додати другого затверджувача відомості? І ще: бухгалтерка каже, що її двофакторку в понеділок скинули, хоча ні вона, ні адмін цього не робили, а потім з її логіна хтось вивантажив архів розрахункових."),
    ("account_takeover", "uk", "Прийшов лист Set up two-factor authentication again, хоча 2FA мені ніхто не скидав. Зайшла — а в профілі вже прив'язаний чужий пристрій."),
    ("account_takeover", "uk", "Пароль змінила не я. Зайти не можу."),
    ("account_takeover", "uk", "Нам зателефонували нібито з PayFlow і попросили «підтвердити особу власника». Директор продиктував код з автентифікатора, і тепер пошта власника в акаунті вже не наша."),
    ("account_takeover", "uk", "Колега переказала, що в журналі дій від мого імені вночі скасовано три відпустки і змінено керівника п'ятьом працівникам. Я в той час спала."),
    ("account_takeover", "uk", "Підкажіть, як зробити звіт з окладами. До речі, в розсилках з'явився щотижневий звіт на незнайому адресу, створений під моїм користувачем, а я такого не створювала."),
    ("account_takeover", "uk", "Мене, здається, зламали: в налаштуваннях SSO стоїть новий сертифікат і чужі метадані, а наш айтішник клянеться, що нічого не міняв."),
    ("account_takeover", "uk", "Адмін, якого ми деактивували ще в жовтні після звільнення, вчора знову входив — у журналі видно його вхід і перегляд грудневої відомості."),
    ("account_takeover", "uk", "Працівниця в застосунку побачила, що пошту для її розрахункових змінили на незнайому, а заявку «погодила» вона сама. Вона нічого не подавала й не погоджувала — це несанкціонований доступ?"),
    ("account_takeover", "uk", "Як обмежити API-токен по IP? Бо вчора під моїм користувачем хтось створив токен з повним доступом, і я дізналася про це лише з листа-сповіщення."),
    # ---- leaked_credentials / en --------------------------------------------------------------------
    ("leaked_credentials", "en", "How do I revoke an API token? Our integration partner emailed our hris-sync-prod token to the wrong customer this morning. They've sent it back, but it sat in someone else's inbox for hours."),
    ("leaked_credentials", "en", "Our break-glass Owner password and its recovery codes were printed on the same sheet, and that sheet went out in the folder we handed to the auditors from Carter & Lowe, so they're effectively leaked."),
    ("leaked_credentials", "en", "Can a reset link be used twice? Our IT guy posted a screenshot of my password reset email, link and all, in a public Slack community while asking for help with the quarantine."),
    ("leaked_credentials", "en", "The Xero reconnect went fine, but during the screen share with an outside consultant our payroll admin typed her PayFlow password into the chat box instead of the login field, with the consultant's whole team on the call."),
    ("leaked_credentials", "en", "We need to rotate every token: the Postman environment with our production PayFlow token was exposed, it synced to the personal account of a contractor whose contract ended last month."),
    ("leaked_credentials", "en", "Terse: our SSO signing key was exposed, it went into a public repo with the SAML metadata for about a day."),
    ("leaked_credentials", "en", "Our payroll clerk keeps the team's passwords, including the Owner's PayFlow login, in a spreadsheet on the shared drive that the whole warehouse can open."),
    ("leaked_credentials", "en", "A former bookkeeper still has our admin login and the recovery codes from when she set everything up, and we didn't part on good terms, so I'd treat those credentials as compromised."),
    ("leaked_credentials", "en", "How do I limit a token to our office IP? It turns out the token leaked through a dashboard link we published on our intranet, and the intranet can be reached from outside."),
    ("leaked_credentials", "en", "Our payroll manager meant to email her 2FA recovery codes to herself and sent them to the whole finance department list instead, two agency temps included."),
    # ---- leaked_credentials / uk --------------------------------------------------------------------
    ("leaked_credentials", "uk", "Як перевипустити токен? Айтішник скинув його в загальний чат з підрядником, щоб той налаштував синхронізацію, а там людей 30, тож токен, вважай, злитий."),
    ("leaked_credentials", "uk", "Пароль від акаунта власника записаний у спільному Google-документі «Доступи», і посилання на нього, як виявилось, відкрите для всіх, хто його має."),
    ("leaked_credentials", "uk", "Коротко: наш API-ключ до PayFlow уже тиждень світиться в публічному репозиторії сайту."),
    ("leaked_credentials", "uk", "Колишній айтішник забрав із собою ноутбук з менеджером паролів, де є всі доступи до адмінки PayFlow, і на зв'язок не виходить."),
    ("leaked_credentials", "uk", "Під час вебінару головбух показувала екран, і всі учасники бачили її логін і пароль від PayFlow у відкритій нотатці."),
    ("leaked_credentials", "uk", "Резервні коди 2FA директора сфотографували й переслали у вайбер-групу бухгалтерії, «щоб були під рукою». У групі є й колишні працівники."),
    ("leaked_credentials", "uk", "Підкажіть, як налаштувати обмеження IP для токена. Схоже, токен скомпрометований: він був у лог-файлах, які ми відправили підряднику на аналіз."),
    ("leaked_credentials", "uk", "Інструкцію до інтеграції з BAS ми переслали стороннім людям, а в ній був логін і пароль адміністратора PayFlow. Це ж витік, так?"),
    ("leaked_credentials", "uk", "Наш підрядник з інтеграції тримав токен PayFlow у відкритому конфігу на своєму сервері, а той сервер, кажуть, минулого тижня зламали."),
    ("leaked_credentials", "uk", "Посилання для скидання пароля директора кадровичка переслала в загальний робочий чат, бо не знала, що з ним робити, а сам він ним ще не скористався."),
    # ---- payment_fraud / en -------------------------------------------------------------------------
    ("payment_fraud", "en", "How do I resend a payslip? Our driver Ade says his October salary never arrived, and when I checked, his bank account had been changed on the 23rd after a request from 'him' sent from an address that isn't his."),
    ("payment_fraud", "en", "The bank file was rejected, I re-uploaded it twice because the portal kept timing out, and this morning 37 people tell me they've been paid three times."),
    ("payment_fraud", "en", "We paid £6,800 to a new account for our finance assistant after an email from her personal address. She's just back from holiday and says she never sent it, so I think we've been scammed."),
    ("payment_fraud", "en", "Quick question about cost centres. Also, it seems our payroll assistant has been adding herself to every off-cycle bonus run with £1,500 since June, and we've only just noticed."),
    ("payment_fraud", "en", "Possible fraud? An employee's salary went to someone else: the bank says the account name didn't match, and the money has already gone."),
    ("payment_fraud", "en", "Hedged, but: the December bonus for our two sales leads was entered as net instead of gross, and the bank has already sent them about £9,000 more than was approved."),
    ("payment_fraud", "en", "Someone in the payroll team changed the bank details of three leavers after their termination, and their final pay went to those new accounts. It looks like internal fraud."),
    ("payment_fraud", "en", "A leaver's final pay went out twice, once in the off-cycle and once in the regular run, £4,200 each time, and he isn't answering his phone."),
    ("payment_fraud", "en", "An employee's IBAN was changed after a phone call from a man saying he was her brother, and her November salary went there. Isn't that fraud?"),
    ("payment_fraud", "en", "Terse: ghost employee on the Leeds pay group, paid for four months."),
    # ---- payment_fraud / uk -------------------------------------------------------------------------
    ("payment_fraud", "uk", "Як правильно вносити нові реквізити працівника? Питаю, бо за листом з «нової пошти» бухгалтерка змінила рахунок водієві, і зарплата за листопад пішла невідомо кому."),
    ("payment_fraud", "uk", "Файл для Привату відхилили, ми провели виплату вручну, а потім банк таки провів і сам файл. Тепер 45 людей отримали ЗП двічі."),
    ("payment_fraud", "uk", "Кадровичка, як з'ясувалось, місяцями проводила через позапланові відомості «премії» своїй сестрі, яка в нас навіть не працює. Це ж шахрайство."),
    ("payment_fraud", "uk", "Коротко: вчора пішла виплата на 120 тис. грн на рахунок, якого немає в жодного працівника."),
    ("payment_fraud", "uk", "Остаточний розрахунок звільненому пішов і з позапланової, і з основної відомості. Він отримав подвійну суму і не бере трубку."),
    ("payment_fraud", "uk", "Підкажіть, як налаштувати звіт по виплатах. Бо, здається, один з керівників дописував собі години в табелі підлеглих, і ці гроші вже виплачені."),
    ("payment_fraud", "uk", "Схоже на шахрайство: працівниці змінили картку після дзвінка нібито від її чоловіка, і відпускні пішли на ту картку."),
    ("payment_fraud", "uk", "Банк затримав частину реєстру як підозрілу — 8 отримувачів з новими рахунками, змінені за два дні до виплати. Решту вже провів, і там, схоже, теж такі були."),
    ("payment_fraud", "uk", "Премію менеджерам внесли як Net замість Gross, і банк уже перерахував кожному на 40 % більше, ніж погодив директор."),
    ("payment_fraud", "uk", "Фіктивні працівники? Колега каже, що в жовтневій відомості було двоє людей, яких ніхто не знає, і їм уже виплатили по 28 тисяч."),
    # ---- data_breach / en ---------------------------------------------------------------------------
    ("data_breach", "en", "How do I change which address payslips go to? Because of a typo in our import, 60 October payslips went to a stranger's mailbox at a lookalike domain."),
    ("data_breach", "en", "Our scheduled salary report went to a distribution list that includes our outsourced cleaning company. Is that a reportable breach?"),
    ("data_breach", "en", "I shared the payslip ZIP with our auditor through a link, and she forwarded it to her whole graduate intake as a training example."),
    ("data_breach", "en", "Every line manager can see the diagnoses on sick notes in the absence calendar, and one of them has been showing them round the office."),
    ("data_breach", "en", "Terse: data leak, the headcount export with home addresses and salaries was left on a train on a USB stick."),
    ("data_breach", "en", "Someone found a colleague's payslip on the shared printer and posted a photo of it in the staff WhatsApp group."),
    ("data_breach", "en", "We put the bulk import CSV, 900 employees with NI numbers and bank details, in a Google Drive folder for our contractor and forgot it was set to anyone with the link. That's a breach, isn't it?"),
    ("data_breach", "en", "A payroll manager we let go last month downloaded the full payslip archive the day before she left, and she now works for a competitor. I'm worried it's a data breach."),
    ("data_breach", "en", "The disability certificates of our Ukrainian staff were attached to a payroll summary that was emailed to every department head."),
    ("data_breach", "en", "Quick question about the 48-hour link for payslip archives: the link to every staff payslip for 2024 was pasted into a Teams channel with external guests last week and has been opened 14 times."),
    # ---- data_breach / uk ---------------------------------------------------------------------------
    ("data_breach", "uk", "Як надіслати розрахункові повторно на правильну пошту? Через помилку в імпорті листи за вересень для 40 людей пішли на одну чужу адресу."),
    ("data_breach", "uk", "Кадровичка переслала сторонньому підряднику таблицю з РНОКПП, паспортними даними і окладами всіх працівників. Це витік персональних даних?"),
    ("data_breach", "uk", "ЕЛН з діагнозами працівників тепер бачать усі керівники змін, а один з них уже обговорює їх у курилці."),
    ("data_breach", "uk", "Коротко: флешка з вивантаженням зведеної і паспортними даними загубилась у таксі. Витік, по суті."),
    ("data_breach", "uk", "Посилання на архів розрахункових листів за рік опинилося в загальному чаті компанії, де є й сторонні люди."),
    ("data_breach", "uk", "Звільнена бухгалтерка за день до звільнення скачала всі відомості з окладами, і тепер, кажуть, показує їх новому роботодавцю."),
    ("data_breach", "uk", "Довідки МСЕК працівників з інвалідністю прикріпили до звіту, який розіслали всім начальникам відділів."),
    ("data_breach", "uk", "Підкажіть, як сховати колонку окладів у звіті. Бо менеджер складу, якому дали доступ, уже розповів усім, хто скільки отримує, ще й з номерами карток."),
    ("data_breach", "uk", "Розрахунковий лист директора з його ЗП і аліментами хтось роздрукував і повісив на дошку оголошень у їдальні."),
    ("data_breach", "uk", "Наш підрядник з розробки сайту отримав доступ до PayFlow «для тесту» і вивантажив собі всю базу працівників з ІПН і адресами. Це вже витік?"),
    # ---- regulatory / en ----------------------------------------------------------------------------
    ("regulatory", "en", "How do I export our FPS history? HMRC has opened an employer compliance review and wants our records for 2023/24 by the 15th."),
    ("regulatory", "en", "We've been charged a £400 late filing penalty on our EPS for November, and HMRC says more will follow each month."),
    ("regulatory", "en", "The Pensions Regulator has sent us an unpaid contributions notice for October, saying our contributions never arrived."),
    ("regulatory", "en", "Our US entity received an IRS notice proposing a $14,000 penalty over the W-2 mismatches."),
    ("regulatory", "en", "Hedged: our accountant thinks the letter from the tax office about our Kyiv entity's 4ДФ means an audit is starting, and they want the tax calculations for all of 2025."),
    ("regulatory", "en", "The ICO has written to us about a former employee's complaint that we didn't delete her data, and given us 28 days to respond."),
    ("regulatory", "en", "Terse: RTI late filing fine. Need the full submission log."),
    ("regulatory", "en", "Quick question about year-end corrections: the CRA has assessed us for unremitted deductions on three T4s and wants payment within 30 days."),
    ("regulatory", "en", "An inspector from the labour office came to our Dnipro warehouse on Tuesday and took copies of the overtime timesheets; she's coming back next week for the P-5 forms."),
    ("regulatory", "en", "The state tax service rejected our Q3 submission, charged us 1,020 hryvnia for filing late and wants a corrected XML."),
    # ---- regulatory / uk ----------------------------------------------------------------------------
    ("regulatory", "uk", "Як сформувати уточнюючий розрахунок? Прийшло податкове повідомлення-рішення на 17 тис. грн за неподання за II квартал."),
    ("regulatory", "uk", "Держпраці призначила позапланову перевірку за скаргою працівниці щодо надурочних, просять табелі П-5 за рік."),
    ("regulatory", "uk", "До нас прийшла перевірка з Пенсійного фонду щодо правильності нарахування лікарняних за 2025 рік, просять усі заяви-розрахунки."),
    ("regulatory", "uk", "Коротко: пеня по ЄСВ за листопад, 3 600 грн. Звідки — не розумію."),
    ("regulatory", "uk", "Податкова викликає директора на «бесіду» щодо низьких зарплат у працівників на пів ставки."),
    ("regulatory", "uk", "Як швидко вивантажити табелі? Бо до нас уже прийшла інспекторка з праці й чекає в приймальні."),
    ("regulatory", "uk", "Через помилку в додатку 1 податкова не зарахувала наш розрахунок за III квартал і вже нарахувала штраф 1 020 грн, а директор питає, хто за це відповідатиме."),
    ("regulatory", "uk", "Отримали від ДПС запит на пояснення щодо розбіжностей між 4ДФ і нашими даними — відповісти треба за 10 робочих днів."),
    ("regulatory", "uk", "Працівниця поскаржилась у Держпраці, що ми не дали їй відпустку по догляду за дитиною, і тепер прийшов лист з вимогою надати документи."),
    ("regulatory", "uk", "Схоже, буде штраф: працівник поскаржився, що ми не видаємо розрахункові листи, і податкова вже надіслала запит."),
    # ---- legal_threat / en --------------------------------------------------------------------------
    ("legal_threat", "en", "How do I download a leaver's payslips? His employment lawyer has written that they're taking us to tribunal over unpaid overtime and wants every timesheet."),
    ("legal_threat", "en", "If PayFlow can't explain the double-counted night shifts by Friday, our solicitors will send you a formal claim for the overtime we overpaid."),
    ("legal_threat", "en", "Hedged: a former employee says she's 'speaking to someone' about her data not being deleted and wants to know which of our suppliers hold it."),
    ("legal_threat", "en", "Our union has lodged a collective grievance over the holiday balances, and the rep says they'll take it further unless it's settled this month."),
    ("legal_threat", "en", "Terse: ex-driver's representative wants £3,200 for unpaid night shifts within 14 days, or they issue proceedings."),
    ("legal_threat", "en", "We've instructed our legal team about the missed SEPA payments, so please preserve every log and keep all further replies in writing."),
    ("legal_threat", "en", "A warehouse worker's solicitor has sent a subject access request and warned they'll add a data protection claim to his unfair dismissal case."),
    ("legal_threat", "en", "Our lawyers are drafting a claim against you for the costs caused by the Xero duplicates."),
    ("legal_threat", "en", "Quick one about P45s: the employee we dismissed last week has gone to the employment tribunal, and our lawyer needs his full pay history certified."),
    ("legal_threat", "en", "Our MD says that if payroll goes out late again she'll sue PayFlow for every penny we owe the staff in compensation."),
    # ---- legal_threat / uk --------------------------------------------------------------------------
    ("legal_threat", "uk", "Як вивантажити табелі звільненого? Його адвокат надіслав запит і попередив про позов щодо неоплачених надурочних."),
    ("legal_threat", "uk", "Колишня працівниця подала до суду на поновлення на роботі, потрібна завірена історія всіх змін у її картці."),
    ("legal_threat", "uk", "Якщо через ваш збій з лікарняними працівники недоотримають гроші, компанія вимагатиме з PayFlow компенсацію в судовому порядку."),
    ("legal_threat", "uk", "Коротко: представник колишнього охоронця вимагає 46 тис. грн за нічні зміни, інакше далі буде суд."),
    ("legal_threat", "uk", "Працівниця, з якої ми утримуємо аліменти, каже, що подасть на нас до суду, бо нібито утримали більше, ніж у рішенні."),
    ("legal_threat", "uk", "Наш юридичний відділ вважає збій з табелями в ніч переведення годинника вашою відповідальністю і готує офіційну вимогу до PayFlow."),
    ("legal_threat", "uk", "Підкажіть, де знайти наказ про звільнення. Працівник каже, що оскаржуватиме звільнення, і юрист просить зібрати всі документи."),
    ("legal_threat", "uk", "Адвокат колишньої кадровички вимагає копії всіх її розрахункових і погрожує скаргою та позовом за порушення обробки персональних даних."),
    ("legal_threat", "uk", "Троє працівниць, яким урізали залишок відпустки, разом звернулися до представника і дали нам тиждень на врегулювання, інакше підуть далі."),
    ("legal_threat", "uk", "Директор просив передати: якщо ще раз зірвете виплату, зустрінемось у господарському суді."),
    # ---- abuse / en ---------------------------------------------------------------------------------
    ("abuse", "en", "How do I reject a timesheet with a comment? One of our pickers answered my last rejection with 'I know which car is yours'."),
    ("abuse", "en", "A driver keeps ringing our payroll clerk at home late at night, swearing at her about his deductions. She's scared to come in."),
    ("abuse", "en", "Terse: employee says he'll 'do something stupid' to himself over the court deduction."),
    ("abuse", "en", "A manager uses the leave comments to call one of his team a lazy cow, and worse."),
    ("abuse", "en", "Your useless app lost my clock-ins again, next time I'll come down there and smash your office up."),
    ("abuse", "en", "One of our supervisors told a young cashier he'd approve her overtime 'if she's nice to him after work'."),
    ("abuse", "en", "An employee posted our HR officer's home address in the staff group chat after his sick pay came out lower than he expected."),
    ("abuse", "en", "Hedged: a colleague overheard one of the drivers in the canteen saying the payroll lady 'won't see Christmas' if his payslip is short again."),
    ("abuse", "en", "You people are incompetent idiots and I hope your company burns down with all of you inside."),
    ("abuse", "en", "Quick question about delegates. My deputy has been sending me menacing messages since I refused to make him the delegate for leave approvals."),
    # ---- abuse / uk ---------------------------------------------------------------------------------
    ("abuse", "uk", "Як відхилити відпустку з коментарем? Бо працівник у відповідь на минулу відмову написав керівниці, що «зустріне її після зміни»."),
    ("abuse", "uk", "Звільнений охоронець дзвонить кадровичці ночами й обіцяє спалити їй машину."),
    ("abuse", "uk", "Коротко: працівник пише, що накладе на себе руки, якщо знову утримають аліменти."),
    ("abuse", "uk", "Керівник зміни в коментарях до табелів називає працівниць «курками» і ще гірше."),
    ("abuse", "uk", "Ваша підтримка — бездарі, ще раз таке — приїду і переламаю вам усі компи."),
    ("abuse", "uk", "Майстер цеху погоджує надурочні тільки тим працівницям, які погоджуються з ним «посидіти» після зміни."),
    ("abuse", "uk", "Колега чула, як комірник казав, що «прийде з друзями» до кадровички, якщо його звільнення оформлять за статтею."),
    ("abuse", "uk", "Працівник виклав у загальний чат домашню адресу кадровички з підписом «тут живе та, що ріже зарплату»."),
    ("abuse", "uk", "Щоб ви всі здохли з вашою програмою, через вас люди сидять без грошей."),
    ("abuse", "uk", "Підкажіть, як змінити затверджувача відпусток. Теперішній керівник відділу відкрито цькує працівницю-переселенку і відхиляє всі її заяви з образливими коментарями."),
    # ---- executive_escalation / en ------------------------------------------------------------------
    ("executive_escalation", "en", "How long does a replacement P60 take? I'm asking because our CEO has copied in your CEO and expects a personal reply today."),
    ("executive_escalation", "en", "Our chairman wants a call with your leadership team about the Xero duplicates before he signs the renewal."),
    ("executive_escalation", "en", "Terse: our owner wants your COO on the phone, not support."),
    ("executive_escalation", "en", "A local radio station has picked up the story of our warehouse staff being paid late and wants to interview someone from PayFlow."),
    ("executive_escalation", "en", "Our founder wants to know who at PayFlow signed off the 2025.10.1 release, by name, because that's the person she intends to speak to."),
    ("executive_escalation", "en", "Our CEO has drafted a LinkedIn post about the Safari login problem naming PayFlow and says he'll publish it tonight unless your management calls him."),
    ("executive_escalation", "en", "Hedged: our MD said she'll message your CEO directly if this isn't fixed today."),
    ("executive_escalation", "en", "Quick question about the bank file. Our group CFO is now handling this personally and wants a meeting with your VP of customer success."),
    ("executive_escalation", "en", "Our parent company's audit committee is reviewing the duplicate journals and wants a senior PayFlow representative at their meeting on the 14th."),
    ("executive_escalation", "en", "Please take this above support: our directors want someone from your executive team on a call at 4pm."),
    # ---- executive_escalation / uk ------------------------------------------------------------------
    ("executive_escalation", "uk", "Скільки займає регенерація файлу? Питаю, бо генеральний поставив у копію вашого директора і чекає особистої відповіді."),
    ("executive_escalation", "uk", "Власник мережі сказав, що продовжувати з вами будемо тільки після його розмови з вашим CEO про лікарняні."),
    ("executive_escalation", "uk", "Коротко: до четверга потрібен лист за підписом вашого керівництва для нашої наглядової ради."),
    ("executive_escalation", "uk", "Журналістка з ділового видання готує матеріал про збої з виплатами й хоче коментар від когось із вашого керівництва."),
    ("executive_escalation", "uk", "Наш директор у п'ятницю доповідає акціонерам і хоче до того особисто поговорити з вашим технічним директором."),
    ("executive_escalation", "uk", "Про «зниклі відпустки» вже пишуть у Фейсбуці з тегом PayFlow, і наше керівництво просить вашу публічну заяву."),
    ("executive_escalation", "uk", "Голова правління вже в копії цього листа і просить, щоб далі з нами спілкувалась людина рівня директора, а не перша лінія."),
    ("executive_escalation", "uk", "Підкажіть про cut-off для ПУМБ. І ще: засновник сказав, що напише особисто вашому CEO, якщо сьогодні не буде рішення."),
    ("executive_escalation", "uk", "Наш генеральний вимагає, щоб на завтрашню нараду з підрядниками прийшов хтось із вашого топ-менеджменту."),
    ("executive_escalation", "uk", "Передайте питання вище підтримки, будь ласка — наш директор чекає дзвінка від когось з керівництва о 16:00."),
]
# fmt: on

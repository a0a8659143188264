"""Hand-written risky passages about the PayFlow help-centre topics (knowledge/demo/kb, knowledge/demo/rca).

The counterparts of cores_kb_safe.py: the same topics and words (password reset, 2FA, API token, a
rejected bank file, a payment that failed, a tax-report export, a sick note, a payslip resend), but
with a fact a human must handle: somebody else acted, a secret reached other people, money already
moved wrongly, personal data reached the wrong people, an authority demanded or fined, a legal claim,
a threat or harassment, an executive or public escalation. About half avoid their kind's obvious
keywords. Written blind (no held-out split, no eval set); `build.py` wraps them like the others.
"""

from __future__ import annotations

# (kind, language, text)
RISKY_KB: list[tuple[str, str, str]] = [
    # ---- account_takeover / en ----------------------------------------------------------------------
    ("account_takeover", "en", "How do I reset my password? I got a reset email I never asked for, didn't click it, and now my password doesn't work and the sessions page shows a login from Brazil."),
    ("account_takeover", "en", "I'm locked out with PF-1003, but I haven't tried to sign in since Friday. The audit log shows a successful sign-in right after the failed ones, from a device I've never used."),
    ("account_takeover", "en", "Can you reset my 2FA? A new authenticator device was added to my profile yesterday and my recovery codes were regenerated, and I did neither."),
    ("account_takeover", "en", "Which role should an external accountant get? I'm asking because an 'accountant' with Owner rights was invited from my account on Sunday and I never sent that invite. I think I've been hacked."),
    ("account_takeover", "en", "Our SSO test passed last week, but today the SAML metadata was swapped for a different identity provider and nobody in IT did it. Looks like someone has taken over our admin account."),
    ("account_takeover", "en", "Is it normal for API usage to show calls from a token I never created? It was created under my user at 2am while I was asleep, with payroll:read scope."),
    ("account_takeover", "en", "Our sales manager's leave was approved, and then three more requests were approved in her name at 4am while she was on a flight. Unauthorised access, surely?"),
    ("account_takeover", "en", "I opened a 'your payslip is ready' page from a text, typed my PayFlow login and the 6-digit code, and now the personal email on my profile is one I don't recognise."),
    # ---- account_takeover / uk ----------------------------------------------------------------------
    ("account_takeover", "uk", "Як скинути двофакторку? Мені подзвонили нібито з вашої підтримки, я продиктувала код із застосунку, і тепер у налаштуваннях безпеки стоїть чужий телефон."),
    ("account_takeover", "uk", "Не можу зайти — PF-1003, хоча я сьогодні пароль взагалі не вводила. А в журналі видно успішний вхід з Харкова одразу після десятка невдалих."),
    ("account_takeover", "uk", "Мій акаунт зламали: з мого користувача погодили три відпустки і змінили реквізити головбуху."),
    ("account_takeover", "uk", "Наш бухгалтер каже, що табелі за листопад масово затвердив його користувач, коли він був у відпустці в горах і без ноутбука."),
    ("account_takeover", "uk", "Хтось змінив адресу входу через SSO в налаштуваннях, і всі наші тепер потрапляють на чужу сторінку логіну. Схоже на несанкціонований доступ до адмінки."),
    ("account_takeover", "uk", "Прийшов лист «Ваш пароль змінено», а я нічого не міняв. Як відновити вхід і хто зараз сидить у моєму кабінеті?"),
    ("account_takeover", "uk", "У списку користувачів з'явився адміністратор «payflow-support», якого ніхто з нас не запрошував, і запросили його з мого логіна вчора вночі. Мене, схоже, зламали."),
    # ---- leaked_credentials / en --------------------------------------------------------------------
    ("leaked_credentials", "en", "How do I rotate an API token? Our developer pushed the hris-sync-prod token to a public GitHub repo this morning and it was up there for about three hours."),
    ("leaked_credentials", "en", "What are the API rate limits? We're seeing hundreds of calls from an IP we don't know, using the token that was visible in a screenshot our contractor posted on LinkedIn."),
    ("leaked_credentials", "en", "The recovery codes for our Owner account were kept in a Google Doc that, it turns out, anyone with the link could open, and the link was in our public onboarding pack."),
    ("leaked_credentials", "en", "The Xero reconnect instructions we emailed to a supplier by mistake included our PayFlow admin username and password in plain text."),
    ("leaked_credentials", "en", "Leaked credentials: our payroll admin's password turned up in a breach dump from a shopping site, and it's the same one she uses for PayFlow."),
    ("leaked_credentials", "en", "Our API token is exposed. It's hard-coded in a Power BI file we shared with an outside consultancy, and they've forwarded it around."),
    ("leaked_credentials", "en", "Can I see which IPs used our tokens? The password of our SSO break-glass Owner account was on the whiteboard behind me in a webinar recording that's now on YouTube."),
    # ---- leaked_credentials / uk --------------------------------------------------------------------
    ("leaked_credentials", "uk", "Як відкликати API-токен? Наш програміст виклав його у відкритий репозиторій на GitHub, і він там провисів пів дня."),
    ("leaked_credentials", "uk", "Логін і пароль від адмінки PayFlow ми скинули в телеграм-чат з підрядниками, а там людей 40, половина вже з нами не працює."),
    ("leaked_credentials", "uk", "Коди відновлення двофакторки власника лежали у спільній папці на Google Диску з доступом для всіх, хто має посилання."),
    ("leaked_credentials", "uk", "Стався витік: файл .env з токеном до PayFlow потрапив в архів, який ми надіслали клієнту разом з документацією."),
    ("leaked_credentials", "uk", "У токена для синхронізації з BAS є обмеження по IP? Бо він скомпрометований — його видно на скриншоті, який наша бухгалтерка виклала на форумі."),
    ("leaked_credentials", "uk", "Колишній розробник досі має наш токен з усіма скоупами на своєму особистому ноутбуці, а розійшлися ми з ним дуже погано."),
    ("leaked_credentials", "uk", "Пароль від облікового запису головбуха злили разом з базою якогось інтернет-магазину, а він такий самий, як у PayFlow."),
    ("leaked_credentials", "uk", "Наш API-ключ засвітився в публічній колекції Postman. Як швидко він перестане працювати після відкликання?"),
    # ---- payment_fraud / en -------------------------------------------------------------------------
    ("payment_fraud", "en", "The bank rejected the salary file on Tuesday, so we uploaded it again, and now the bank says both went through. 140 people have been paid twice."),
    ("payment_fraud", "en", "How do I update an employee's bank details properly? Two employees' accounts were changed last week by someone phoning in as their husband, and their October salaries went to those accounts."),
    ("payment_fraud", "en", "Our subscription payment failed with PF-7001, fine, but on the same day £18,400 left our payroll account to an account called 'PayFlow Settlements' that isn't you."),
    ("payment_fraud", "en", "An employee emailed HR from a Gmail address asking to switch her salary account, we did it, and now the real employee says she was never paid."),
    ("payment_fraud", "en", "The bonus CSV was edited after I approved the off-cycle run: one contractor got £24,000 instead of £2,400, and the money has already left."),
    ("payment_fraud", "en", "This looks like payroll fraud: one of our site managers added two employees who don't exist, and they've been paid for three months."),
    ("payment_fraud", "en", "Fraudulent bank detail change: the audit log shows the change for our finance director was approved by an HR user, and her salary went to a Revolut account."),
    ("payment_fraud", "en", "Our bank flagged the salary batch as suspected fraud: twelve payments to brand-new accounts, all changed within three days of payday."),
    # ---- payment_fraud / uk -------------------------------------------------------------------------
    ("payment_fraud", "uk", "Як виправити вже виплачену відомість? Банк провів файл двічі, хоча перший нібито відхилив, і 60 людей отримали подвійну ЗП."),
    ("payment_fraud", "uk", "Працівниці змінили IBAN через застосунок, а вона каже, що нічого не подавала. Зарплата за жовтень пішла на чужу картку."),
    ("payment_fraud", "uk", "Бухгалтерка отримала лист нібито від директора з проханням терміново змінити реквізити для виплати премії, змінила, і 85 тис. грн вже пішли."),
    ("payment_fraud", "uk", "Після того як Приват відхилив файл, ми провели виплати вручну в Приват24, але троє працівників отримали гроші на рахунки, яких у їхніх картках ніколи не було."),
    ("payment_fraud", "uk", "Шахрайство з зарплатою: завскладом додав у відомість двох «мертвих душ» і пів року отримував за них ЗП."),
    ("payment_fraud", "uk", "Схоже на шахрайство: у вчорашньому зарплатному реєстрі з'явилися 4 отримувачі, яких немає в PayFlow, і банк уже все провів."),
    ("payment_fraud", "uk", "Після затвердження позапланової відомості на премії хтось змінив суми: одна людина отримала 240 тисяч замість 24. Гроші вже на її рахунку, а вона не відповідає."),
    # ---- data_breach / en ---------------------------------------------------------------------------
    ("data_breach", "en", "How do I resend a payslip? I need to know because the September payslips went to the wrong people: everyone got the payslip of the person above them in the list."),
    ("data_breach", "en", "Our scheduled salary report was set up with an external distribution list by mistake, and 30 people at our recruitment agency got everyone's pay."),
    ("data_breach", "en", "The payslip ZIP for the whole company was saved to a shared folder that our cleaning contractor's staff can open."),
    ("data_breach", "en", "I exported the headcount report with salaries and national insurance numbers and posted it in the all-staff channel instead of the HR one."),
    ("data_breach", "en", "An employee's sick note with her diagnosis was attached to a leave approval email that went to her whole team. Is that a data breach?"),
    ("data_breach", "en", "We think there's been a data breach: an ex-employee has posted screenshots of our custom salary report on Reddit."),
    ("data_breach", "en", "Personal data leak: the CSV import file with 400 employees' NI numbers and bank details was emailed to a job candidate by mistake."),
    # ---- data_breach / uk ---------------------------------------------------------------------------
    ("data_breach", "uk", "Розрахункові листи за листопад розійшлися не тим людям — кожен отримав лист сусіда по списку, з сумою і ІПН."),
    ("data_breach", "uk", "Інспекторка з кадрів переслала в загальний робочий чат заяву-розрахунок по лікарняному з діагнозом працівниці."),
    ("data_breach", "uk", "Зведену відомість з окладами всієї компанії вивантажили й надіслали не на ту пошту — людині з іншої фірми."),
    ("data_breach", "uk", "Архів з розрахунковими листами для аудиторів залили на файлообмінник без пароля, і посилання вже ходить по місту."),
    ("data_breach", "uk", "У звіті, який бачать усі керівники змін, раптом з'явилися оклади, ІПН і номери карток усіх працівників."),
    ("data_breach", "uk", "Витік персональних даних: файл імпорту з РНОКПП і паспортними даними 300 працівників лежав у публічному доступі."),
    ("data_breach", "uk", "Схоже, у нас витік: хтось сторонній знав точну ЗП нашої бухгалтерки і номер її картки."),
    ("data_breach", "uk", "Персональні дані звільнених, яких вони просили видалити, опинилися у вивантаженні, яке ми передали їхньому новому роботодавцю."),
    # ---- regulatory / en ----------------------------------------------------------------------------
    ("regulatory", "en", "How do I export the year-end figures? HMRC has sent us a penalty notice for late FPS submissions for October and November."),
    ("regulatory", "en", "We've had a demand letter saying the Q3 tax calculation for our Kyiv entity never arrived, a 34,000 hryvnia sanction is already applied, and they want the XML by Friday."),
    ("regulatory", "en", "Our W-2s went out with the wrong figures, and a federal letter has now arrived with an $8,700 assessment and 30 days to respond."),
    ("regulatory", "en", "Two people from the employment standards office are coming on Monday to go through our timesheets and overtime records for the last 12 months."),
    ("regulatory", "en", "The Pensions Regulator has issued us a fixed penalty because our declaration of compliance is late."),
    ("regulatory", "en", "Can I correct a P60? Revenue has written about the tax on our staff bonuses being wrong and given us 30 days before enforcement starts."),
    ("regulatory", "en", "Our accountant says we now owe £4,300 in interest and surcharges on last year's PAYE because of the missing year-end submissions."),
    ("regulatory", "en", "How do I download the year-end corrections? Someone from the tax authority rang to say they're opening a compliance check into our 2024/25 submissions."),
    # ---- regulatory / uk ----------------------------------------------------------------------------
    ("regulatory", "uk", "Як вивантажити уточнюючий податковий розрахунок? ДПС наклала штраф за розбіжності в додатку 4ДФ за III квартал."),
    ("regulatory", "uk", "Нам прийшов лист-вимога від контролюючого органу: надати розрахункові відомості і табелі за пів року, строк — 10 днів."),
    ("regulatory", "uk", "Нам прийшло ППР на 51 тис. грн через помилку з ЄСВ у звіті, який сформував PayFlow."),
    ("regulatory", "uk", "Держпраці призначила інспекційне відвідування через скаргу працівника на недоплату лікарняних."),
    ("regulatory", "uk", "ПФУ відмовив у фінансуванні лікарняних за трьома ЕЛН і вимагає повернути вже отримані кошти."),
    ("regulatory", "uk", "Через копійку різниці ЄСВ кабінет не прийняв звіт, строк минув, і тепер нам нарахували пеню."),
    ("regulatory", "uk", "У нас позапланова перевірка від ТЦК щодо військового обліку, а вивантаження працівників з PayFlow не сходиться з паперами."),
    # ---- legal_threat / en --------------------------------------------------------------------------
    ("legal_threat", "en", "How do I download payslips for a former employee? Her solicitor says she was underpaid holiday pay and they're issuing a tribunal claim."),
    ("legal_threat", "en", "If the bank file isn't fixed by Friday, our lawyers will be in touch about the cost of the late salaries."),
    ("legal_threat", "en", "A former driver's union rep says they'll take us to court over the overtime rules, and we'll need the full timesheet history from PayFlow."),
    ("legal_threat", "en", "Our general counsel asks for a signed statement of when the Xero duplicate journals started, and wants every related record preserved."),
    ("legal_threat", "en", "An ex-employee says she will sue us because her data wasn't deleted when she asked, and she's named PayFlow too."),
    ("legal_threat", "en", "The employee we terminated last month has sent a letter before action about his final pay, with a 14-day deadline."),
    ("legal_threat", "en", "We'll be recovering our losses from the stuck pay run from PayFlow through the proper channels, and this message puts you on notice."),
    # ---- legal_threat / uk --------------------------------------------------------------------------
    ("legal_threat", "uk", "Колишня працівниця через адвоката вимагає всі розрахункові листи і табелі, бо подає до суду через компенсацію за відпустку."),
    ("legal_threat", "uk", "Якщо до п'ятниці не виправите експорт для Привату, ми подаємо на вас до суду за зрив виплат."),
    ("legal_threat", "uk", "Наш юрист готує позов до PayFlow через подвійні проводки, тож просимо зберегти всі журнали синхронізації."),
    ("legal_threat", "uk", "Отримали адвокатський запит щодо нарахування лікарняних працівниці, строк відповіді — 5 днів."),
    ("legal_threat", "uk", "Працівник, якого ми звільнили, надіслав письмову претензію щодо остаточного розрахунку і дав 10 днів на досудове врегулювання."),
    ("legal_threat", "uk", "Ми направимо вам офіційну претензію про відшкодування збитків за день простою, чекайте рекомендований лист."),
    ("legal_threat", "uk", "Профспілка вимагає документи про надурочні за рік і каже, що вже готує колективний трудовий спір."),
    ("legal_threat", "uk", "Нас залучили третьою особою у справі колишньої кадровички, потрібна завірена виписка з журналу змін."),
    # ---- abuse / en ---------------------------------------------------------------------------------
    ("abuse", "en", "How do I resend a payslip? One of our warehouse staff shouts at our payroll clerk every day, and this morning said he'd 'sort her out' in the car park if his overtime is short again."),
    ("abuse", "en", "Your support is useless, and if the next pay run fails I'll come to your office and make someone pay for it."),
    ("abuse", "en", "A manager keeps rejecting one employee's leave requests with comments like 'go back to your own country'."),
    ("abuse", "en", "An employee wrote in his timesheet comment that he'll hurt himself if his pay is docked again."),
    ("abuse", "en", "A supervisor only approves the timesheets of the women on his team if they message him privately, and two of them have come to me about it."),
    ("abuse", "en", "Someone is using the leave request comments to harass our HR assistant with sexual remarks."),
    ("abuse", "en", "Threatening messages: an employee whose salary we corrected has sent our accountant photos of her house and her car."),
    ("abuse", "en", "Fix the clock-in app or I swear I'll find out where your developers live."),
    # ---- abuse / uk ---------------------------------------------------------------------------------
    ("abuse", "uk", "Водій надіслав бухгалтерці в особисті: «якщо знову не доплатите нічні — чекай біля під'їзду»."),
    ("abuse", "uk", "Працівник написав у коментарі до табеля, що йому вже немає сенсу жити, якщо знову зріжуть ЗП."),
    ("abuse", "uk", "Керівник зміни відхиляє відпустки тільки працівницям з ромської громади і пише в коментарях образливі речі про них."),
    ("abuse", "uk", "Якщо ваша підтримка ще раз пришле мені шаблонну відповідь, я приїду і розберуся з вами особисто."),
    ("abuse", "uk", "Погрози кадровичці: звільнений працівник пише їй, що знає, де вона живе, і що вона «пошкодує» за наказ."),
    ("abuse", "uk", "Тупі ідіоти, через вас людям не виплатили зарплату, щоб ви всі згоріли."),
    ("abuse", "uk", "Домагання: керівник складу вимагає від молодих працівниць «особистої зустрічі», щоб затвердити їм наднормові."),
    # ---- executive_escalation / en ------------------------------------------------------------------
    ("executive_escalation", "en", "How long does regenerating a bank file take? Our CEO is on this thread and wants someone from your leadership on a call today."),
    ("executive_escalation", "en", "Our managing director wants to speak to your CEO about the stuck pay run before she decides whether we renew."),
    ("executive_escalation", "en", "Staff have posted on LinkedIn that PayFlow wiped their holiday balances, and our chair wants a public statement from you."),
    ("executive_escalation", "en", "The board has asked for a formal written explanation from PayFlow's management about the Xero duplicate journals before Thursday's meeting."),
    ("executive_escalation", "en", "The owner of our group is copied and expects a reply from someone who can make decisions, not another help-centre link."),
    ("executive_escalation", "en", "A reporter from the regional business paper rang about our late salaries and named PayFlow. We need a statement from your side today."),
    ("executive_escalation", "en", "The people upstairs have asked me to get a named senior contact at PayFlow and a timeline in writing, today."),
    # ---- executive_escalation / uk ------------------------------------------------------------------
    ("executive_escalation", "uk", "Генеральний директор вимагає, щоб ваш керівник особисто подзвонив йому щодо файлу для Привату сьогодні до обіду."),
    ("executive_escalation", "uk", "Власник компанії в копії. Він чекає офіційного листа від керівництва PayFlow про збій з лікарняними."),
    ("executive_escalation", "uk", "Наша наглядова рада хоче зустрітися з вашим топ-менеджментом до продовження договору."),
    ("executive_escalation", "uk", "Директорка каже, що якщо до вечора ніхто старший з вашого боку не вийде на зв'язок, ми розриваємо контракт."),
    ("executive_escalation", "uk", "Про затримку ЗП вже написали в місцевому телеграм-каналі з посиланням на PayFlow, потрібна ваша публічна заява."),
    ("executive_escalation", "uk", "Нагорі вже питають, хто з вашого боку за це відповідає. Потрібні ім'я і телефон людини, яка приймає рішення."),
    ("executive_escalation", "uk", "Інвестори на зустрічі спитали, чому звіт по чисельності двічі рахує людей, і тепер від нас чекають пояснення за підписом когось вищого за підтримку."),
    ("executive_escalation", "uk", "Фінансовий директор групи бере питання з подвійними проводками на себе і хоче розмову з вашим фінансовим директором."),
]

"""Hand-written risky passages ("cores"), one per situation, English and Ukrainian, per kind.

`agent/graph/risk/data/build.py` wraps each core into one or more tickets (greeting, context, an
ordinary question at the end, typos) and writes risk_examples.jsonl; the dev/test split is by core,
so no situation is in both splits. Many cores avoid the obvious keywords on purpose.
"""

from __future__ import annotations

# (kind, language, text)
RISKY: list[tuple[str, str, str]] = [
    # ---- account_takeover: takeover, phishing victims, sessions nobody recognises ------------------
    (
        "account_takeover",
        "en",
        "Somebody got into our payroll admin login last night and the bank details of two employees now point to accounts we have never seen.",
    ),
    (
        "account_takeover",
        "en",
        "I clicked a link in an email that looked like it came from PayFlow asking me to confirm my account, typed my login on that page, and now I am not sure what I gave away.",
    ),
    (
        "account_takeover",
        "en",
        "Our HR director says she did not approve the payroll that went through this morning, but the audit log shows her user approving it at 4am from a device we don't own.",
    ),
    (
        "account_takeover",
        "en",
        "The email on my account was changed to an address I don't know and I did not do it. I can still get in for now.",
    ),
    (
        "account_takeover",
        "en",
        "We got a text message with a PayFlow-style link saying our subscription would be suspended; my colleague entered her username, password and the six digit code there.",
    ),
    (
        "account_takeover",
        "en",
        "There's a new administrator user called 'support-temp' in our company that none of us created, and it was added on Sunday.",
    ),
    (
        "account_takeover",
        "en",
        "I got a notification that my two-factor device was replaced with a new phone, but I still have my phone and did not change anything.",
    ),
    (
        "account_takeover",
        "en",
        "The activity page shows sessions from Lagos and Bucharest on my account over the weekend, I was at home in Leeds the whole time.",
    ),
    (
        "account_takeover",
        "en",
        "Someone phoned our payroll clerk pretending to be from your support team, asked her to read out the code from her authenticator app, and she did.",
    ),
    (
        "account_takeover",
        "en",
        "I can't get into my account anymore because the recovery phone number was swapped to one that isn't mine, and our payroll is due Friday.",
    ),
    (
        "account_takeover",
        "en",
        "One of our employees says her payslip shows a different bank account, she insists she never edited it, and the change came from her own employee login.",
    ),
    (
        "account_takeover",
        "en",
        "We think our office manager's mailbox was taken over; the attacker used it to request a PayFlow password reset and the reset went through.",
    ),
    (
        "account_takeover",
        "en",
        "a guy emailed our accountant from payfIow-billing.example (with a capital i instead of l) with an invoice link and she logged in there with her work credentials",
    ),
    (
        "account_takeover",
        "uk",
        "Хтось зайшов під обліковим записом нашої головної бухгалтерки вночі й поміняв реквізити виплат трьом працівникам.",
    ),
    (
        "account_takeover",
        "uk",
        "Отримали лист нібито від PayFlow із проханням підтвердити акаунт, колега перейшла за посиланням і ввела там логін та пароль, а потім ще й код із SMS.",
    ),
    (
        "account_takeover",
        "uk",
        "У журналі дій бачу вхід з Нідерландів о третій ночі від імені директора, а він спав удома в Києві і нікуди не заходив.",
    ),
    (
        "account_takeover",
        "uk",
        "У нашій компанії з'явився новий адміністратор, якого ніхто з нас не додавав, і він уже переглядав зарплатну відомість.",
    ),
    (
        "account_takeover",
        "uk",
        "Мені прийшло повідомлення, що пристрій для двофакторної перевірки замінено, але я нічого не міняла, телефон у мене в руках.",
    ),
    (
        "account_takeover",
        "uk",
        "Телефонував чоловік, представився вашою підтримкою і попросив продиктувати код підтвердження. Наша кадровичка продиктувала.",
    ),
    (
        "account_takeover",
        "uk",
        "Пошту в моєму профілі змінено на якусь чужу скриньку, я цього не робив, і тепер листи для відновлення йдуть туди.",
    ),
    (
        "account_takeover",
        "uk",
        "Працівник каже, що в його особистому кабінеті хтось змінив номер картки для зарплати, а він сам туди місяць не заходив.",
    ),
    (
        "account_takeover",
        "uk",
        "нам прийшла смс що підписка зупинена і треба перейти на payflow-ua.verify-pay.example, бухгалтер зайшла туди зі своїм логіном, чи це нормально?",
    ),
    (
        "account_takeover",
        "uk",
        "Сесія в моєму акаунті активна з пристрою Windows, хоча в мене лише Mac, і хтось вночі вивантажив звіт по окладах.",
    ),
    # ---- leaked_credentials ---------------------------------------------------------------------
    (
        "leaked_credentials",
        "en",
        "Our developer pushed the production API token to a public GitHub repository yesterday and it was there for about six hours before we noticed.",
    ),
    (
        "leaked_credentials",
        "en",
        "I accidentally pasted my PayFlow login and password into our company-wide Slack channel with 300 people, deleted it after a few minutes.",
    ),
    (
        "leaked_credentials",
        "en",
        "Our previous payroll contractor still knows the shared admin login because we never changed it after she left in the spring.",
    ),
    (
        "leaked_credentials",
        "en",
        "A laptop with a spreadsheet of all our PayFlow user passwords was left on a train this morning.",
    ),
    (
        "leaked_credentials",
        "en",
        "Our security scanner found the integration secret for the PayFlow webhook in a log file that is readable by every contractor.",
    ),
    (
        "leaked_credentials",
        "en",
        "The password for our finance team's account showed up in a haveibeenpwned-style alert from our IT provider.",
    ),
    (
        "leaked_credentials",
        "en",
        "I sent the API key for the HR sync by email to the wrong external address, a vendor we stopped working with.",
    ),
    (
        "leaked_credentials",
        "en",
        "Our whole admin team uses one login and the sticky note with it was in a photo we posted on LinkedIn.",
    ),
    (
        "leaked_credentials",
        "en",
        "An intern screen-shared during a webinar with 200 attendees while the PayFlow API credentials were open in a text editor.",
    ),
    (
        "leaked_credentials",
        "en",
        "We found our bearer token for the payroll API hard-coded in the JavaScript of our public careers site.",
    ),
    (
        "leaked_credentials",
        "uk",
        "Наш розробник виклав робочий API-токен у публічний репозиторій, він провисів там пів дня, поки ми помітили.",
    ),
    (
        "leaked_credentials",
        "uk",
        "Я випадково надіслала логін і пароль від PayFlow у загальний чат компанії на 150 людей, потім видалила.",
    ),
    (
        "leaked_credentials",
        "uk",
        "Колишній бухгалтер досі знає спільний пароль адміністратора, ми його не міняли після її звільнення.",
    ),
    (
        "leaked_credentials",
        "uk",
        "Ноутбук із файлом, де записані паролі всіх наших користувачів PayFlow, загубили в таксі.",
    ),
    (
        "leaked_credentials",
        "uk",
        "Ключ доступу до API опинився в листі, який пішов підряднику, з яким ми вже не працюємо.",
    ),
    (
        "leaked_credentials",
        "uk",
        "ІТ-відділ повідомив, що пароль нашого фінансового акаунта знайшли в базі злитих даних в інтернеті.",
    ),
    (
        "leaked_credentials",
        "uk",
        "Під час вебінару колега показувала екран, а там був відкритий файл з доступами до PayFlow, дивилися двісті людей.",
    ),
    (
        "leaked_credentials",
        "uk",
        "токен для інтеграції з 1С лежав у відкритому доступі в нашому гугл-документі, посилання мав будь-хто",
    ),
    # ---- payment_fraud: fraud, wrong and double payments --------------------------------------------
    (
        "payment_fraud",
        "en",
        "Every employee received their November salary two times; the bank executed both files and roughly 200k went out extra.",
    ),
    ("payment_fraud", "en", "We made a typo in one employee's pay and he received 45,000 instead of 4,500 yesterday."),
    (
        "payment_fraud",
        "en",
        "The salary of our new hire landed in her previous bank account, which she closed in October, even though she updated her details.",
    ),
    ("payment_fraud", "en", "Our card was billed three times for the same monthly subscription this week."),
    (
        "payment_fraud",
        "en",
        "A vendor invoice we never approved was paid out of the payroll account, to an IBAN nobody here recognises.",
    ),
    (
        "payment_fraud",
        "en",
        "Seventeen people on the night shift got nothing at all on payday while the rest of the company was paid.",
    ),
    (
        "payment_fraud",
        "en",
        "The bonus run paid the full annual bonus to people who should have received only the quarterly part, around 60 employees overpaid.",
    ),
    (
        "payment_fraud",
        "en",
        "An employee we terminated in August is still receiving a monthly salary, three payments so far.",
    ),
    (
        "payment_fraud",
        "en",
        "Someone requested an urgent off-cycle payment to a new account 'for a contractor', approved it, and the money is gone, and we don't know who.",
    ),
    (
        "payment_fraud",
        "en",
        "The net amounts on this month's payslips are all about 10% lower than the gross minus tax, people got less money than they should.",
    ),
    (
        "payment_fraud",
        "en",
        "Our refund from last month was sent to the old card that belongs to a director who left, not to us.",
    ),
    (
        "payment_fraud",
        "en",
        "The same freelancer appears twice in the payment file with two different accounts and both were paid.",
    ),
    (
        "payment_fraud",
        "en",
        "We were debited for 450 seats but we only have 45 users, so the charge is ten times what it should be.",
    ),
    (
        "payment_fraud",
        "uk",
        "Усім працівникам зарплату за жовтень зарахували двічі, банк провів обидва файли, зайві гроші вже пішли.",
    ),
    (
        "payment_fraud",
        "uk",
        "Працівниці нарахували і виплатили в десять разів більше, бо в окладі зайвий нуль, гроші вже на її картці.",
    ),
    (
        "payment_fraud",
        "uk",
        "Зарплата пішла на старий рахунок у банку, який працівник закрив ще у вересні, хоча нові реквізити він подав вчасно.",
    ),
    ("payment_fraud", "uk", "З нашої картки за підписку списали тричі за один місяць."),
    (
        "payment_fraud",
        "uk",
        "З зарплатного рахунку пішов платіж на чужий IBAN, якого ми не затверджували і ніхто не знає, хто його створив.",
    ),
    (
        "payment_fraud",
        "uk",
        "Половина складу не отримала зарплату у день виплати, хоча відомість затверджена і відправлена.",
    ),
    ("payment_fraud", "uk", "Звільненому в липні працівнику досі щомісяця приходить зарплата, вже три виплати."),
    (
        "payment_fraud",
        "uk",
        "У файлі на виплату один і той самий ФОП є двічі з різними рахунками, і обидва отримали гроші.",
    ),
    (
        "payment_fraud",
        "uk",
        "Система не утримала ПДФО у частини працівників, і вони отримали на руки більше, ніж мали.",
    ),
    ("payment_fraud", "uk", "нам виставили рахунок за 500 місць замість 50, і гроші вже списали з рахунку"),
    ("payment_fraud", "uk", "Премію виплатили людям, які вже звільнилися, близько 20 осіб, суми чималі."),
    # ---- data_breach: breaches, exposed data, GDPR / data-subject requests -------------------------
    (
        "data_breach",
        "en",
        "A former employee has sent a formal request under Article 17 asking us to erase all her personal data, including what is stored in PayFlow.",
    ),
    (
        "data_breach",
        "en",
        "The payslips of all 300 staff were emailed to one employee by mistake, so she now has everyone's salary and home address.",
    ),
    (
        "data_breach",
        "en",
        "An ex-manager's account was still active after she left and she exported the full employee list with salaries last night.",
    ),
    (
        "data_breach",
        "en",
        "A candidate wants a copy of every piece of personal information we hold on him, he cites his right of access and gives us a month.",
    ),
    (
        "data_breach",
        "en",
        "Our staff can see other employees' bank details in the mobile app when they open the team calendar.",
    ),
    (
        "data_breach",
        "en",
        "An employee asked us to tell her exactly which third parties received her data through PayFlow and to stop processing it.",
    ),
    (
        "data_breach",
        "en",
        "The shared link to the headcount export with national insurance numbers was posted in a public forum.",
    ),
    (
        "data_breach",
        "en",
        "Our supervisory authority asked us to report within 72 hours what personal data was exposed and how many people are affected.",
    ),
    ("data_breach", "en", "A USB stick with last year's P60s for the whole company is missing from the HR office."),
    (
        "data_breach",
        "en",
        "Someone on the internet posted screenshots of our salary report, with names and amounts, and we have no idea how they got it.",
    ),
    (
        "data_breach",
        "en",
        "Our works council demands to know where PayFlow stores employee data and whether it leaves the EU, they want it in writing by Monday.",
    ),
    (
        "data_breach",
        "uk",
        "Колишня працівниця надіслала офіційну вимогу видалити всі її персональні дані, у тому числі з PayFlow.",
    ),
    (
        "data_breach",
        "uk",
        "Розрахункові листи всіх працівників помилково пішли одній людині, тепер вона бачить зарплати й адреси всіх колег.",
    ),
    (
        "data_breach",
        "uk",
        "Звільнена кадровичка мала доступ ще тиждень і вивантажила список працівників з окладами та паспортними даними.",
    ),
    (
        "data_breach",
        "uk",
        "Працівник вимагає надати йому копію всієї інформації про нього, яку ми зберігаємо, і каже, що має на це право за законом.",
    ),
    ("data_breach", "uk", "У мобільному застосунку працівники бачать банківські реквізити один одного."),
    ("data_breach", "uk", "Посилання на звіт з ІПН усіх працівників потрапило в публічний телеграм-канал."),
    ("data_breach", "uk", "Хтось опублікував у соцмережах скріншоти нашої зарплатної відомості з прізвищами."),
    (
        "data_breach",
        "uk",
        "Уповноважений з прав людини запитує, які персональні дані працівників ми обробляємо і на якій підставі, відповісти треба за 10 днів.",
    ),
    ("data_breach", "uk", "флешка з довідками про доходи всіх працівників зникла з відділу кадрів"),
    (
        "data_breach",
        "uk",
        "Кандидатка просить прибрати її резюме і всі дані з системи і підтвердити письмово, що все стерто.",
    ),
    # ---- regulatory: tax authority, penalties, filing failures -----------------------------------
    (
        "regulatory",
        "en",
        "We received a notice from HMRC charging us for a late FPS submission for month 6, and PayFlow shows that submission as failed.",
    ),
    (
        "regulatory",
        "en",
        "The tax office opened an inspection and wants payroll and withholding records for 2023 and 2024 within ten working days.",
    ),
    (
        "regulatory",
        "en",
        "Our quarterly filing is due tomorrow and the totals PayFlow produces don't match what we paid, so we'd be submitting wrong figures.",
    ),
    ("regulatory", "en", "The IRS sent a letter saying our 941 for Q2 was never received and interest is accruing."),
    (
        "regulatory",
        "en",
        "Our pension contributions were not reported to the provider for three months and the regulator wrote to us about auto-enrolment duties.",
    ),
    (
        "regulatory",
        "en",
        "The labour inspectorate is visiting next week and wants timesheets that prove we paid overtime correctly.",
    ),
    ("regulatory", "en", "We were fined by the state for missing the new-hire reporting window for 40 employees."),
    (
        "regulatory",
        "en",
        "The year-end forms we sent to employees have the wrong withholding amounts and some of them have already filed their returns.",
    ),
    (
        "regulatory",
        "en",
        "Social security contributions for our Polish staff were under-declared for months and ZUS is asking for an explanation.",
    ),
    (
        "regulatory",
        "en",
        "Our auditors found that the statutory sick pay records in PayFlow don't reconcile with what we reported to the authorities.",
    ),
    (
        "regulatory",
        "uk",
        "Отримали запит від податкової в рамках документальної перевірки: надати відомості про зарплату та утримання за два роки.",
    ),
    (
        "regulatory",
        "uk",
        "Нам нарахували санкції за несвоєчасне подання звіту за третій квартал, хоча в PayFlow він нібито відправлений.",
    ),
    (
        "regulatory",
        "uk",
        "Завтра останній день подання податкового розрахунку, а суми в додатку 4ДФ не сходяться з виплаченими.",
    ),
    ("regulatory", "uk", "Пенсійний фонд повідомив, що ЄСВ за кількох працівників недонараховано за пів року."),
    ("regulatory", "uk", "До нас іде інспекція праці і вимагає табелі та підтвердження оплати понаднормових."),
    (
        "regulatory",
        "uk",
        "Податкова надіслала вимогу пояснити розбіжність між поданим розрахунком і фактично сплаченим ПДФО.",
    ),
    (
        "regulatory",
        "uk",
        "Військовий збір не утримувався з премій з січня, і тепер у нас буде донарахування від контролюючого органу.",
    ),
    ("regulatory", "uk", "Держпраці виявила, що ми не повідомили про прийняття 12 працівників, і загрожує санкціями."),
    ("regulatory", "uk", "Звіт у ДПС не прийняли через помилку, а строк подання вже минув учора."),
    (
        "regulatory",
        "uk",
        "Податковий агент, тобто ми, неправильно показав доходи ФОПів у розрахунку, і нам прийшов акт перевірки.",
    ),
    # ---- legal_threat ---------------------------------------------------------------------------
    (
        "legal_threat",
        "en",
        "If the missing pay isn't in our accounts by Friday our solicitor will be in touch, we have already instructed her.",
    ),
    (
        "legal_threat",
        "en",
        "Consider this formal notice that we intend to claim damages for the losses your outage caused us on payday.",
    ),
    (
        "legal_threat",
        "en",
        "An employee is taking us to an employment tribunal over unpaid overtime and our defence depends on the records in your system.",
    ),
    (
        "legal_threat",
        "en",
        "Our counsel says your terms do not allow you to keep our data after termination and we expect written confirmation or we'll escalate through the courts.",
    ),
    (
        "legal_threat",
        "en",
        "We are preparing a claim against PayFlow for breach of contract, please preserve all logs related to our account.",
    ),
    (
        "legal_threat",
        "en",
        "I've been advised that what happened with my wages is a breach of my employment rights and I'm going to take it further legally.",
    ),
    (
        "legal_threat",
        "en",
        "A former worker's lawyer sent us a letter before action about holiday pay calculated by PayFlow.",
    ),
    (
        "legal_threat",
        "en",
        "We will be reporting you to the consumer protection agency and seeking compensation for the duplicate charges.",
    ),
    ("legal_threat", "en", "You'll be hearing from our legal department about the SLA credits you owe us."),
    ("legal_threat", "uk", "Якщо до п'ятниці гроші не повернуть, наш юрист готує звернення до суду."),
    (
        "legal_threat",
        "uk",
        "Вважайте це офіційною претензією: ми вимагатимемо відшкодування збитків через збій у день виплати.",
    ),
    (
        "legal_threat",
        "uk",
        "Працівник подав позовну заяву щодо невиплачених понаднормових, і нам потрібні всі записи з системи.",
    ),
    ("legal_threat", "uk", "Наш адвокат вважає, що ви порушили договір, і ми будемо стягувати збитки."),
    ("legal_threat", "uk", "Колишня працівниця через представника вимагає перерахунку відпускних і погрожує судом."),
    ("legal_threat", "uk", "Ми звернемося до Держспоживзахисту і вимагатимемо компенсацію за подвійне списання."),
    ("legal_threat", "uk", "Наш юридичний відділ направить вам досудову вимогу щодо кредитів за SLA."),
    ("legal_threat", "uk", "будемо розбиратися через господарський суд якщо не вирішите питання з нашими даними"),
    # ---- abuse: threats, harassment, self-harm -------------------------------------------------
    ("abuse", "en", "I know where your office is and if my money isn't there tomorrow someone is going to get hurt."),
    (
        "abuse",
        "en",
        "Your support people are useless idiots and I will make sure every one of them regrets answering my call.",
    ),
    (
        "abuse",
        "en",
        "One of your agents sent me creepy personal messages after our call and asked for my home address.",
    ),
    ("abuse", "en", "Honestly after this month without pay I don't see the point of going on anymore."),
    (
        "abuse",
        "en",
        "Our manager keeps threatening the payroll clerk, saying he'll 'deal with her' if the numbers are wrong again, she is scared to come in.",
    ),
    ("abuse", "en", "If anyone from your company calls me again I will come down there myself and you won't like it."),
    (
        "abuse",
        "en",
        "An employee is sending abusive messages to our HR team through the PayFlow chat, with racist slurs.",
    ),
    ("abuse", "en", "I'm going to find the developer who wrote this garbage and make him pay personally."),
    ("abuse", "uk", "Я знаю, де ваш офіс, і якщо завтра грошей не буде, комусь буде дуже погано."),
    ("abuse", "uk", "Ваші працівники підтримки тупі, і я подбаю, щоб кожен пошкодував, що взяв слухавку."),
    (
        "abuse",
        "uk",
        "Працівник пише нашій кадровичці образи й погрози в чаті PayFlow, вона боїться виходити на роботу.",
    ),
    ("abuse", "uk", "Після двох місяців без зарплати я вже не бачу сенсу жити далі."),
    ("abuse", "uk", "Ваш оператор після дзвінка писав мені особисті повідомлення і питав домашню адресу."),
    ("abuse", "uk", "Ще раз зателефонуєте — приїду до вас сам, і розмова буде інша."),
    ("abuse", "uk", "я знайду того хто це програмував і він за все відповість особисто"),
    # ---- executive_escalation --------------------------------------------------------------------
    (
        "executive_escalation",
        "en",
        "Our CEO has asked me to tell you that if this is not fixed today she will terminate the contract and talk to your board.",
    ),
    (
        "executive_escalation",
        "en",
        "I'm the CFO and I want a call with your VP of customer success today about the payroll failures this quarter.",
    ),
    (
        "executive_escalation",
        "en",
        "This is the third outage this year; our managing director is drafting the notice to end our agreement.",
    ),
    (
        "executive_escalation",
        "en",
        "Our owner is furious and plans to post about this experience publicly unless someone senior calls him.",
    ),
    (
        "executive_escalation",
        "en",
        "Please escalate to your leadership: the group COO is reviewing whether we keep PayFlow across all 14 subsidiaries.",
    ),
    (
        "executive_escalation",
        "en",
        "A journalist from a national paper contacted us about payroll problems at companies using PayFlow, we need your comms people.",
    ),
    (
        "executive_escalation",
        "en",
        "Our board meets on Thursday and the chairman wants a written explanation from your CEO of why salaries were late.",
    ),
    (
        "executive_escalation",
        "en",
        "We are one of your largest customers and we are evaluating competitors right now because of how this has been handled.",
    ),
    (
        "executive_escalation",
        "uk",
        "Генеральна директорка просила передати: якщо сьогодні не виправите, ми розриваємо договір і вона напише вашому керівництву.",
    ),
    ("executive_escalation", "uk", "Я фінансовий директор і вимагаю дзвінка з кимось із вашого керівництва сьогодні."),
    (
        "executive_escalation",
        "uk",
        "Це вже третій збій за рік, власник компанії доручив готувати відмову від ваших послуг.",
    ),
    (
        "executive_escalation",
        "uk",
        "Наш засновник дуже злий і збирається публічно написати про ваш сервіс, якщо ніхто старший з ним не зв'яжеться.",
    ),
    (
        "executive_escalation",
        "uk",
        "Журналіст з великого видання питає нас про проблеми з виплатами в компаніях на PayFlow, потрібна ваша пресслужба.",
    ),
    (
        "executive_escalation",
        "uk",
        "Наглядова рада в четвер, і голова хоче письмове пояснення від вашого CEO, чому затримали зарплати.",
    ),
    (
        "executive_escalation",
        "uk",
        "Ми один з найбільших ваших клієнтів і вже дивимось на конкурентів через те, як ви це вирішуєте.",
    ),
    (
        "executive_escalation",
        "uk",
        "директор холдингу сказав що якщо до вечора не буде відповіді від вашого керівника — переходимо на інше рішення",
    ),
]

RISKY += [
    (
        "account_takeover",
        "en",
        "We got locked out of the owner account this morning and the support chat says the email on it was updated yesterday, which none of us did.",
    ),
    (
        "account_takeover",
        "en",
        "my login stopped working and then I got a mail that my payout details were changed successfully?? I didn't change anything",
    ),
    (
        "account_takeover",
        "en",
        "An email that looked exactly like your invoice reminder asked us to sign in to pay; our bookkeeper did and an hour later a new pay run appeared.",
    ),
    (
        "account_takeover",
        "en",
        "Staff are getting messages from 'PayFlow HR' asking them to re-enter their bank card on an external page to receive their bonus.",
    ),
    (
        "account_takeover",
        "uk",
        "Зранку не можемо зайти в акаунт власника, а підтримка каже, що пошту в ньому вчора змінили. Ніхто з нас цього не робив.",
    ),
    (
        "account_takeover",
        "uk",
        "Працівникам приходять повідомлення від «PayFlow HR» з проханням ввести дані картки на сторонньому сайті, щоб отримати премію.",
    ),
    (
        "account_takeover",
        "uk",
        "Бухгалтерка відкрила лист, схожий на ваше нагадування про оплату, увійшла за посиланням, а за годину з'явилася нова відомість, яку ніхто не створював.",
    ),
    (
        "account_takeover",
        "uk",
        "мені прийшло що реквізити для виплат успішно змінено, а я нічого не міняв і тепер не можу увійти",
    ),
    (
        "leaked_credentials",
        "en",
        "The shared finance inbox that receives PayFlow reset links was forwarded to a personal Gmail of an employee who quit.",
    ),
    (
        "leaked_credentials",
        "en",
        "We just realised the admin credentials were printed in the handover document we gave to a recruitment agency.",
    ),
    (
        "leaked_credentials",
        "en",
        "Our old integration partner's server was hacked and they stored our PayFlow client secret there.",
    ),
    (
        "leaked_credentials",
        "en",
        "Someone read the one-time codes for our admin account off a screen visible through the office window in a street photo.",
    ),
    (
        "leaked_credentials",
        "uk",
        "Спільна скринька, куди приходять посилання для скидання, була переадресована на особисту пошту працівника, який звільнився.",
    ),
    (
        "leaked_credentials",
        "uk",
        "Дані для входу адміністратора були в документі передачі справ, який ми віддали кадровому агентству.",
    ),
    (
        "leaked_credentials",
        "uk",
        "Сервер нашого колишнього інтегратора зламали, а там зберігався наш секрет для API PayFlow.",
    ),
    (
        "leaked_credentials",
        "uk",
        "Колега сфотографувала монітор із паролем адміністратора і виклала в інстаграм-сторіс.",
    ),
    (
        "payment_fraud",
        "en",
        "Payday went fine except that 23 people got last month's amounts again instead of the new rates, some are short by hundreds.",
    ),
    ("payment_fraud", "en", "The bank statement shows the payroll total was taken from our account twice on the 25th."),
    (
        "payment_fraud",
        "en",
        "An employee's salary has been going to a building society account in someone else's name since August.",
    ),
    ("payment_fraud", "en", "We pressed approve once but the contractors all got two transfers each."),
    (
        "payment_fraud",
        "uk",
        "Зарплата прийшла всім, крім 23 людей, яким нарахували за старими ставками, дехто недоотримав по кілька тисяч.",
    ),
    ("payment_fraud", "uk", "За випискою банку загальну суму відомості списали з нашого рахунку двічі 25-го числа."),
    ("payment_fraud", "uk", "Зарплата однієї працівниці з серпня йде на рахунок на ім'я іншої людини."),
    ("payment_fraud", "uk", "Затвердили один раз, а кожен підрядник отримав по два перекази."),
    (
        "data_breach",
        "en",
        "The monthly cost report with every employee's salary went to our whole customer mailing list instead of the finance group.",
    ),
    (
        "data_breach",
        "en",
        "A former employee is asking us for all records about her sickness absence and who has looked at them.",
    ),
    (
        "data_breach",
        "en",
        "Our cleaning contractor could open the HR laptop that was left logged in and browse employee files.",
    ),
    (
        "data_breach",
        "en",
        "An ex-employee wants to be forgotten completely and asks for confirmation that nothing remains in backups either.",
    ),
    (
        "data_breach",
        "uk",
        "Звіт з окладами всіх працівників пішов на всю клієнтську розсилку замість фінансового відділу.",
    ),
    ("data_breach", "uk", "Колишня працівниця просить усі записи про її лікарняні і хто їх переглядав."),
    (
        "data_breach",
        "uk",
        "Працівник клінінгової компанії міг відкрити залишений ноутбук кадрів і переглядати особові справи.",
    ),
    (
        "data_breach",
        "uk",
        "Колишній працівник хоче, щоб про нього не лишилося жодних даних, навіть у резервних копіях, і просить це підтвердити.",
    ),
    (
        "regulatory",
        "en",
        "Revenue sent us an assessment for unpaid employer contributions for the last two years, plus interest.",
    ),
    ("regulatory", "en", "Our submission to the tax portal bounced and the statutory deadline was last night."),
    (
        "regulatory",
        "en",
        "The auditors from the social insurance office arrive Monday and want the sick-leave calculations for 2024.",
    ),
    (
        "regulatory",
        "en",
        "We got a compliance letter saying our minimum wage calculations for apprentices were wrong for 2024 and arrears are due.",
    ),
    ("regulatory", "uk", "Податкова донарахувала внески за два роки і пеню, посилаючись на дані з нашого розрахунку."),
    ("regulatory", "uk", "Звіт відхилив електронний кабінет, а граничний строк подання був учора ввечері."),
    (
        "regulatory",
        "uk",
        "У понеділок приходять перевіряльники з фонду соцстрахування і просять розрахунки лікарняних за 2024 рік.",
    ),
    (
        "regulatory",
        "uk",
        "Нам прийшов лист, що мінімальну зарплату для учнів рахували неправильно, і треба доплатити заборгованість.",
    ),
    (
        "legal_threat",
        "en",
        "We have passed this matter to our legal advisers and they will contact you regarding the losses.",
    ),
    ("legal_threat", "en", "Unless you reimburse the bank fees, we will file a small claims case next week."),
    (
        "legal_threat",
        "en",
        "The union representing our warehouse staff is threatening collective action over pay errors, and they mention your system by name.",
    ),
    ("legal_threat", "en", "I am writing formally to put you on notice of a dispute under clause 14 of our agreement."),
    ("legal_threat", "uk", "Ми передали питання нашим юридичним радникам, вони зв'яжуться з вами щодо збитків."),
    ("legal_threat", "uk", "Якщо не компенсуєте банківські комісії, наступного тижня подаємо заяву до суду."),
    (
        "legal_threat",
        "uk",
        "Профспілка наших працівників погрожує колективним спором через помилки у виплатах і згадує вашу систему.",
    ),
    ("legal_threat", "uk", "Офіційно повідомляємо про спір відповідно до пункту 14 нашого договору."),
    ("abuse", "en", "Tell your manager I'll be waiting outside your building at five."),
    (
        "abuse",
        "en",
        "The employee who called you yesterday is being harassed by her supervisor, she asked us to hide her address in the system urgently.",
    ),
    ("abuse", "en", "you people deserve everything that's coming to you, watch your backs"),
    (
        "abuse",
        "en",
        "I can't cope anymore, I've lost my flat because the salary never came and I don't want to be here.",
    ),
    ("abuse", "uk", "Передайте своєму керівнику, що я чекатиму біля вашого офісу о п'ятій."),
    ("abuse", "uk", "Працівницю переслідує колишній чоловік, просимо терміново приховати її адресу в системі."),
    ("abuse", "uk", "ви всі отримаєте своє, озирайтеся"),
    ("abuse", "uk", "Я більше не витримую, через невиплату втратила житло і не хочу більше так жити."),
    (
        "executive_escalation",
        "en",
        "Our group CEO is cc'd here and expects a reply from someone at director level within the hour.",
    ),
    (
        "executive_escalation",
        "en",
        "We're not renewing in March unless we get a proper post-mortem and a named person accountable.",
    ),
    ("executive_escalation", "en", "I'll be raising this at our quarterly business review with your chief executive."),
    (
        "executive_escalation",
        "en",
        "Our investors asked why our staff were paid late and I need a statement from your side for them today.",
    ),
    (
        "executive_escalation",
        "uk",
        "У копії наш генеральний директор групи, він чекає відповіді від когось рівня директора протягом години.",
    ),
    (
        "executive_escalation",
        "uk",
        "Ми не продовжимо договір у березні без нормального розбору інциденту і відповідальної особи.",
    ),
    ("executive_escalation", "uk", "Я підніму це питання на квартальній зустрічі з вашим керівником компанії."),
    (
        "executive_escalation",
        "uk",
        "Інвестори питають, чому працівникам затримали зарплату, мені сьогодні потрібна офіційна заява від вас.",
    ),
]

RISKY += [
    (
        "account_takeover",
        "en",
        "Three staff say their payslip emails now go to addresses they don't recognise, and none of them changed their profile.",
    ),
    (
        "account_takeover",
        "en",
        "A 'new device' alert came for our payroll manager while she was on a plane with her phone switched off.",
    ),
    (
        "account_takeover",
        "en",
        "Someone approved a pay run under my name at midnight, I was asleep and nobody else knows my details.",
    ),
    (
        "account_takeover",
        "uk",
        "Троє працівників кажуть, що листи з розрахунковими тепер ідуть на чужі адреси, а свої профілі вони не змінювали.",
    ),
    (
        "account_takeover",
        "uk",
        "Сповіщення про новий пристрій прийшло нашій зарплатниці, коли вона летіла в літаку з вимкненим телефоном.",
    ),
    (
        "account_takeover",
        "uk",
        "Хтось затвердив відомість від мого імені опівночі, а я спав і мої дані більше ніхто не знає.",
    ),
    (
        "leaked_credentials",
        "en",
        "The recovery codes for our main admin were in a shared Google Drive folder that anyone with the link could open.",
    ),
    (
        "leaked_credentials",
        "en",
        "A contractor copied our integration's client ID and secret into a support forum post asking for help.",
    ),
    (
        "leaked_credentials",
        "uk",
        "Коди відновлення головного адміністратора лежали в спільній папці на Google Drive, відкритій усім за посиланням.",
    ),
    (
        "leaked_credentials",
        "uk",
        "Підрядник вставив наш клієнтський секрет інтеграції в пост на форумі, коли просив допомоги.",
    ),
    ("payment_fraud", "en", "The bonus we approved for 12 people went to all 140 employees instead."),
    (
        "payment_fraud",
        "en",
        "A transfer of 38,000 left the payroll account to a beneficiary added yesterday by nobody we know.",
    ),
    ("payment_fraud", "en", "Holiday pay for everyone on leave in August was paid at double the daily rate."),
    ("payment_fraud", "uk", "Премію, яку ми затвердили для 12 людей, отримали всі 140 працівників."),
    (
        "payment_fraud",
        "uk",
        "З зарплатного рахунку пішов переказ на 38 000 новому отримувачу, якого вчора додав невідомо хто.",
    ),
    ("payment_fraud", "uk", "Відпускні за серпень усім нарахували й виплатили за подвоєною денною ставкою."),
    (
        "data_breach",
        "en",
        "A new hire in the warehouse could see the full salary list of head office in his app for two days.",
    ),
    (
        "data_breach",
        "en",
        "Our former contractor still receives the weekly payroll summary with everyone's pay by email.",
    ),
    ("data_breach", "uk", "Новий працівник складу два дні бачив у застосунку повний список окладів головного офісу."),
    ("data_breach", "uk", "Колишній підрядник досі щотижня отримує на пошту зведення по зарплатах усіх працівників."),
    (
        "regulatory",
        "en",
        "We just noticed that the employer's national insurance has not been paid over since the summer.",
    ),
    (
        "regulatory",
        "en",
        "The inspector's letter gives us until Friday to show payment records for all agency workers.",
    ),
    ("regulatory", "uk", "Щойно помітили, що ЄСВ роботодавця не сплачувався з літа."),
    (
        "regulatory",
        "uk",
        "У листі від інспектора сказано до п'ятниці надати документи про виплати всім працівникам за договорами.",
    ),
    ("legal_threat", "en", "My representative will be sending you a formal demand regarding the unpaid commission."),
    ("legal_threat", "uk", "Мій представник надішле вам офіційну вимогу щодо невиплачених комісійних."),
    ("abuse", "en", "One of our employees told the payroll clerk she'd 'make her disappear' over a missing bonus."),
    ("abuse", "uk", "Працівник сказав бухгалтерці, що вона «зникне», якщо не буде премії."),
    (
        "executive_escalation",
        "en",
        "Our chairman will be calling your founder directly if this isn't resolved by tomorrow.",
    ),
    (
        "executive_escalation",
        "uk",
        "Голова правління зателефонує вашому засновнику особисто, якщо до завтра не вирішите.",
    ),
]

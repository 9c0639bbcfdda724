"""The cue lists the resolution verdict reads (`analysis.resolution`), kept apart from the
logic that weighs them.

Every cue is a regular expression over lower-cased text with straight quotes, matched on
word boundaries, and is read in its clause by `analysis.clauses.TurnClauses` before it
counts (a question, reported speech or a hypothetical never counts). Weights are the
evidence one cue adds; the customer's later turns multiply them (see `assess`).

Why two kinds of "fixed" cue: a customer who says "that's fine, thanks" after "an engineer
will visit on Friday" approves of a plan, the problem is not yet gone (pending); after
"there's nothing further I can do" it is politeness (unresolved). Only an *outcome* ("that
fixed it", "works now", "I can log in") says the problem is gone whatever the agent said;
an *approval* ("perfect, thanks", "that's fine", "that works") counts as fixed only when the
agent neither promised a later action nor refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

OUTCOME, APPROVAL = "outcome", "approval"

#: customer cues that the problem is fixed: (regex, weight, kind)
RESOLVED_CUES: list[tuple[str, float, str]] = [
    (r"(?:that|this|it|which) (?:has |'s )?(?:fixed|solved|sorted|resolved|did) (?:it|the (?:problem|issue|trick))", 2.0, OUTCOME),
    (r"(?:fixed|solved|sorted|resolved) (?:it|now|the (?:problem|issue))", 1.5, OUTCOME),
    (r"(?:it|that|everything)(?:'s| is)? (?:work(?:s|ing)|fine|ok(?:ay)?|good) (?:now|again)", 2.0, OUTCOME),
    (r"(?:all|it's all|that's all|we're all|i'm all) (?:sorted|set|good|fixed|done)", 1.5, APPROVAL),
    (r"(?:problem|issue) (?:is |'s |has been )?(?:solved|fixed|resolved|gone|sorted)", 2.0, OUTCOME),
    (r"that (?:worked|answers my question)", 1.5, OUTCOME),
    (r"that (?:helped|helps|does it|did it)", 1.5, APPROVAL),
    (r"(?:i can|i'm able to|i was able to) (?:log ?in|see it|access it|connect)(?: now)?", 1.2, OUTCOME),
    (r"(?:i |we )?can see (?:it|them|the \w+) now|(?:i'm |we're |it's |i am )?(?:connected|logged in|back online|online) now", 1.2, OUTCOME),
    (r"(?:perfect|great|brilliant|excellent|wonderful|awesome)[,!.]? (?:thank|thanks|cheers)", 1.0, APPROVAL),
    (r"(?:that's|that is) (?:all|everything) i (?:needed|wanted)", 1.2, APPROVAL),
    (r"(?:got it|got) (?:working|sorted|fixed)", 1.5, OUTCOME),
    (r"i(?:'ve| have) (?:received|got) (?:it|the (?:refund|money|replacement|email|code|package))", 1.2, OUTCOME),
    (r"(?:you've|you have) been (?:very |really |so )?helpful", 0.8, APPROVAL),
    (r"(?:it's|it is|everything's|everything is|all is|it looks|looks) (?:all )?(?:fine|good|ok(?:ay)?|great|perfect|back to normal)(?: now)?", 1.2, OUTCOME),
    (r"(?:that's|that is|that looks) (?:all )?(?:fine|good|ok(?:ay)?|great|perfect)", 1.2, APPROVAL),
    (r"back to normal|(?:faster|quicker|stable|smoother|clearer) now|(?:is|'s|are|'re) (?:back|up)(?: (?:now|again|and running|online))?(?! to| in| on| at| for| with)|(?:much|a lot|way) better|went through", 1.2, OUTCOME),
    (r"(?:exactly|just|that's|that is|thats) what i (?:wanted|needed|was (?:looking for|after))|(?:it|that|this) works|sorts? (?:it|that) (?:out)?", 1.2, APPROVAL),
    # an explanation understood: "oh right, I forgot about that", "fair enough", "that makes sense"
    (r"(?:that )?makes sense(?: now)?|fair enough|that explains (?:it|that|everything)|i (?:didn't|did not) realise|i forgot (?:about )?(?:that|it)|(?:good|great|nice) to know|thanks for (?:explaining|clarifying|letting me know)", 1.2, APPROVAL),
    # a plain yes to "is it working now?" / a picture coming back on the line
    (r"(?:yes|yeah|yep|yup)[,.!]? (?:it's|it is|that's|that is|everything's|they're) (?:\w+ )?(?:working|fine|there|back|fixed|sorted|showing|gone)|(?:it's|it is|they're) (?:coming|come) (?:on|back|up|through)", 1.5, OUTCOME),
    # the customer finds the thing while still on the line: "found it", "yep it's there now"
    (r"(?:found it|(?:got|see) it now|there it is|(?:it's|it is) (?:there|here) now|(?:yep|yes|yeah|oh) (?:it's|it is) (?:there|here))", 1.2, OUTCOME),
    (r"sort(?:ing|ed)? (?:that|it|this|everything) out", 1.2, APPROVAL),
    (r"(?:activated|verified|unlocked|enabled|restored|installed|showing|visible|through) now", 1.2, OUTCOME),
    (r"(?:has |have |finally )?(?:arrived|came through|showed up|turned up)", 1.2, OUTCOME),
    (r"(?:isn't|is not|aren't|not|no longer|doesn't|don't) (?:\w+ ){0,2}any ?more|no more (?:errors?|problems?|issues?|drops?|crash\w*)", 1.5, OUTCOME),
]  # fmt: skip

#: customer cues that it is not (regex, weight)
UNRESOLVED_CUES: list[tuple[str, float]] = [
    (r"still (?:not|isn't|doesn't|don't|can't|cannot|won't|no|have(?:n't)?|broken|failing|down|waiting|getting|the same|happening|nothing)", 2.0),
    (r"(?:not|isn't|doesn't|don't|didn't|won't|never) (?:work(?:s|ing)?|help(?:ed|ing)?|fix(?:ed)?|solve[sd]?|resolved?)", 1.8),
    (r"(?:same|this) (?:problem|issue|error) (?:again|still|as before|before|as yesterday|as last time)|(?:the )?same (?:problem|issue|error|thing)[.!]*$", 1.5),
    (r"(?:i'll|i will|i'd|i'm going to|i am going to|i have to|i'll have to|i'd have to|i need to) (?:call|phone|ring|write|contact you|come) (?:back|again)", 1.8),
    (r"(?:waste of (?:my )?time|useless|pointless|getting nowhere|going (?:round|around) in circles|no help at all)", 1.8),
    (r"(?:nothing|no one|nobody)(?:'s| has| ever)? (?:ever )?(?:changes|changed|fix(?:es|ed)|help(?:s|ed)|works|happen(?:s|ed)|gets? (?:done|fixed|sorted))|(?:you|they|someone|he|she) (?:said|told me|promised) (?:that|the same|this)(?: thing)? (?:last|before|yesterday|already|twice)|no (?:change|difference|improvement)", 1.5),
    (r"still (?:doing (?:it|that|the same)|the same|happening|there)|(?:not|n't) going to (?:work|help|fix)", 1.8),
    (r"(?:is|'s|was) not what i (?:asked|need|wanted)", 1.5),
    (r"(?:i'm|i am) (?:still )?(?:stuck|locked out|without (?:service|internet|power))", 1.5),
    (r"(?:no|without a) (?:solution|answer|fix|resolution)", 1.2),
    (r"(?:hasn't|has not|haven't|have not) (?:been )?(?:fixed|solved|resolved|arrived|received|come|worked)", 1.8),
    (r"(?:i'll|i will) (?:take my business|go (?:elsewhere|to a competitor)|cancel)", 1.0),
    (r"(?:crash\w*|down|broken|failing|stopped|dropping|dropped|gone|happening|frozen|freezing) again", 1.8),
    (r"still (?:\w+ ){0,4}(?:there|gone|invalid|slow|broken|down|wrong|missing|happening|cutting out|dropping|buffering|freezing|stuck|bouncing|declin\w+|an? error|the error|crash\w*|charged|showing|charging|pending|leaking|locked|blocked|suspended|flashing|spinning|loading|blank|cold|the old|the wrong)", 1.8),
    (r"(?:haven't|have not|didn't|did not) (?:answer(?:ed)?|solved?|fix(?:ed)?|help(?:ed)?|explain(?:ed)?|change[d]?|said anything|told me|replied)", 1.5),
    (r"(?:don't|do not|can't|cannot) see any (?:change|difference)", 1.5),
    (r"(?:i give up|(?:go|switch|move) to (?:another|a different|a competitor|someone else))", 1.5),
    (r"(?:i |we )?(?:can't|cannot|can not|couldn't|still can't) (?:log ?in|sign in|connect|access|get in|pay|use (?:it|the))", 1.5),
    (r"(?:it|that|this) (?:doesn't|does not|didn't|did not|isn't|won't)\s*[.!]*\s*$", 1.5),
    # dissatisfaction and taking it elsewhere: the customer leaves with the problem
    (r"(?:not|never) (?:happy|satisfied|acceptable|good enough|right|fair|on)|unacceptable|ridiculous|unbelievable|disgraceful|a joke|a disgrace|outrageous|fed up|sick of", 1.8),
    (r"(?:leav|writ|post|giv)(?:e|ing) (?:you )?(?:a |an )?(?:\w+ )?(?:review|one star|1 star)|(?:make|making|put(?:ting)? in|file|filing|raise|raising|lodge|lodging) (?:a |an )?(?:formal )?complaint|complain(?:ing)? (?:to|about)|trading standards|ombudsman|small claims|solicitor|lawyer|regulator|chargeback", 2.0),
    (r"forget it|never ?mind|don't bother|i'll sort it (?:out )?myself|i'll (?:call|contact|ring|try|go to) (?:the|my) (?:council|bank|police|landlord|manufacturer|regulator|shop|store)", 1.8),
    (r"(?:\w+|several|many|multiple|so many) times (?:already|now|before)|(?:yet|once) again|(?:been|was|got) (?:transferred|passed around|cut off)", 1.5),
    (r"(?:nobody|no one|no-one|nobody's|you) (?:has |have |'s )?(?:ever )?(?:replied|answered|responded|got back|called (?:me )?(?:back)?|rung (?:me )?|phoned|contacted|been in touch|emailed|done anything)", 1.5),
    # the customer sums up the bad outcome or gives up: "so I just live with it then", "I get
    # nothing", "so you're not doing anything", "I shall be taking this further", "whatever"
    (r"so (?:i|we) (?:just|still|have to|'ll have to|get nothing|lose|have no|'ve got no|get no|got no)|(?:i|we) (?:get|got|getting) nothing|so (?:you're|you are) not (?:doing|going to do) anything|tak(?:e|ing) (?:this|it|the matter) further|whatever(?! (?:would|you|is|it|works|suits|time))|(?:oh )?come on[,!?]", 1.8),
    (r"(?:that|this|the new) one(?:'s| is| has)? (?:\w+ ){0,2}(?:expired|invalid|broken|failed|not working|the same)|(?:expired|invalid|broken|failed|not working) (?:too|as well)", 1.8),
    # taking the problem elsewhere or doing without: "we'll look elsewhere", "i'll try the
    # shop in town then", "ok then I'll just not buy it", "I won't bother"
    (r"(?:look|go|shop|try|buy it|get it|take (?:it|this|my business|our business)) elsewhere|(?:find|look for|switch to|go with|try|move to) (?:another|a different|a cheaper|some other|other) (?:provider|supplier|company|bank|network|airline|insurer|service|tool|product|solution|app|option|firm|shop|store)s?\b|(?:i'll|i will|we'll|i'm going to|we're going to|i'm gonna|i guess i'll|i'll have to|i'd better) (?:just )?(?:go|try|ask|check|pop|take it) (?:in |down |into |to |with |at )?(?:the|a|another|my|our) (?:\w+ )?(?:shop|store|garage|branch|retailer|dealer|dealership|competitor|locksmith|pharmacy|manufacturer)", 1.8),
    (r"(?:i'll|i will|we'll|we will) just (?:not \w+|leave it|live with it|pay (?:it|the \w+)|cancel(?: it)?|give up|do without)|(?:i|we) (?:just )?(?:won't|will not|shan't) bother|not (?:going to|gonna) bother", 1.8),
    # the customer sums up that nothing came of it: "so nothing then", "so the same as
    # yesterday then", "so that's a no"
    (r"so (?:(?:that's|that is) )?(?:nothing(?! else| more)|a no|no (?:change|update|answer|news|fix|refund|help|way))|(?:the )?same as (?:yesterday|before|last (?:time|week|month)|ever)|back to square one", 1.8),
    (r"(?:this|that|it)(?:'s| is) (?:\w+ )?(?:mad|insane|crazy|absurd|madness|nuts|a nightmare|beyond a joke|shocking|appalling|pathetic|rubbish|terrible|awful|a farce|a shambles|a disaster|a mess|hopeless|unfair|not fair)", 1.8),
    (r"(?:it's|it is) (?:happening|doing it|doing that) (?:right )?now", 1.5),
    # more waiting ahead: "another two weeks of rubbish then"; told to call someone else: "ok ill call them"
    (r"another (?:\w+ ){0,2}(?:weeks?|days?|months?|hours?|years?) (?:of|without|waiting|to wait|then)|(?:i'll|i will|i'll have to|i'll need to) (?:call|ring|phone|contact|email|try) (?:them|that number|the other number|that (?:team|department|line))", 1.8),
    # polite resignation and disagreement: "oh well", "that's a shame", "i don't agree but fine"
    (r"oh well(?! done)|too bad|(?:that's|thats|what a|it's|its) (?:a )?(?:real |bit of a )?(?:shame|pity|unlucky|disappointing)|(?:i )?(?:don't|do not) agree|(?:i )?disagree|(?:i'm|i am) (?:very |really |so )?disappointed", 1.8),
    # the same thing tried again and again: "i've reset it three times"
    (r"(?:twice|(?:two|three|four|five|six|several|many|multiple|\d+) times)(?=\s*(?:[.,!]|$|and|but|now|already|today|this))", 1.2),
    # "i do open them": the customer already does what the agent suggests
    (r"^(?:but |well |yes |yeah )?(?:i|we) (?:do|did|already do|already did|have already|already have)\b(?! not)", 1.2),
    # a workaround the customer will live with, or a job left to them: "i'll just use my other
    # card", "i guess i'll have to get a plumber out myself"
    (r"(?:i'll|i will|we'll) (?:just )?(?:use|try|get|buy|order|go with) (?:my other|another|a different|some other|someone else)|(?:i'll|i will|we'll|i|we) (?:just |have to |need to |'ll have to |'ll need to )(?:\w+ ){0,4}(?:myself|ourselves)|(?:i|we) (?:guess|suppose) (?:i|we)(?:'ll| will|'d better| have to) (?:have to|just|need to)|(?:that's|that is) that(?: then)?[.!]*$|so be it", 1.8),
    # the customer answers that the agent's word is wrong or the fix tried live failed: "well
    # it's not", "no luck", "nope nothing", "same thing", "i already emailed them twice"
    (r"(?:well|but|no)[,.]? (?:it's|it is|its) not\b(?! (?:a problem|an issue|urgent|a big deal|your fault|important|necessary|needed))|(?:no|nope|still) (?:luck|joy|change|difference)|(?:nope|no)[,.]? (?:still )?nothing|same (?:thing|again|result|error|message)\b", 1.5),
    (r"(?:got|had|received|get) no (?:reply|response|answer|call ?back|email)|(?:i|we)(?:'ve| have)? already (?:tried|done|did|emailed|called|rang|phoned|contacted|sent|restarted|reset|reinstalled|bought|replaced|changed|paid|checked|updated|installed|cleared|explained|given|told)|(?:it's|it has|its) been (?:over |more than |nearly |almost )?(?:\w+ ){1,2}(?:days|weeks|months|years)(?: now| already)?[.!]*$|(?:\w+ )more (?:days?|weeks?|months?)(?:[?!.]|$| of| to wait| waiting)", 1.5),
    (r"(?:it's|its|it is|they're|they are|lights? (?:is|are)|screen is) (?:still |all |now )?(?!not |no )(?:\w+ )?(?:orange|red|amber|flashing|blinking|blank|black|spinning|leaking|dripping|frozen|dead)(?: now| again)?\b", 1.5),
]  # fmt: skip

#: in a customer turn, these make its thanks and praise politeness or sarcasm, not approval
#: (and count as open themselves): "thanks anyway", "thanks for nothing", "really solved
#: everything", "lovely. really appreciate it" after a refusal is handled by AGENT_REFUSALS
SARCASM_CUES: list[tuple[str, float]] = [
    (r"thanks? (?:you )?(?:(?:\w+ ){0,4}(?:i guess|i suppose)|anyway|for nothing|all the same)|(?:i guess|i suppose)[.,!]*(?: (?:bye|goodbye|thanks?)[.,!]*)?$", 1.8),
    (r"(great|brilliant|excellent|fantastic|amazing|wonderful|lovely|perfect)[.!,]* (?:really|just|absolutely|truly) \1|(?:great|brilliant|excellent|fantastic|amazing|wonderful|good|superb|stellar|top) (?:\w+ ){0,2}as (?:always|usual|ever)|yeah[.,!]* right\b", 1.8),
    (r"(?:super|really|so|very|most|ever so|incredibly) (?:helpful|informative|useful) (?:answer|reply|response|advice|update)|(?:really|totally|completely) (?:solved|fixed|sorted) everything", 2.0),
    (r"(?:that's |thats |oh )?just (?:great|brilliant|perfect|lovely|fantastic|wonderful)|great (?:job|work)[.!]* (?:really|not)|wow[.,!]* ok(?:ay)?", 1.8),
    (r"(?:fine|ok(?:ay)?)[,.]? (?:\w+ ){0,3}i suppose|(?:i'm|i am) not (?:happy|impressed)", 1.5),
    # exasperation: "ugh fine", "sigh. ok", "ffs"
    (r"(?:ugh+|sigh(?! of relief)|meh|ffs|smh|pff+t?|jeez)|for (?:goodness|god's|gods|heaven's|heavens|pete's|crying out loud) sake|(?:you're|you are|are you) (?:joking|kidding)|seriously[?!]", 1.8),
]  # fmt: skip

#: an agent turn that leaves the problem where it was: a refusal, an inability, sending the
#: customer elsewhere, closing the contact without an answer (regex, weight). Read in the
#: agent's last turns; an offer in the same turn ("but I can ...") cancels it.
AGENT_REFUSALS: list[tuple[str, float]] = [
    (r"(?:nothing|not much|nothing else|nothing more|nothing further) (?:\w+ )?(?:i|we) can (?:do|offer|add|change)|(?:isn't|is not|there's not|not) (?:anything|much) (?:more |else |further )?(?:that )?(?:i|we) can (?:do|offer)|(?:can't|cannot|can not|unable to|not able to) (?:do anything|help (?:you )?(?:with that|further|any further)|offer (?:you )?anything)", 2.0),
    (r"(?:i|we)(?: can't| cannot| can not| am unable to| are unable to|'m unable to|'re unable to|'m not able to| are not able to|'re not able to| won't be able to) (?:\w+ ){0,2}(?:refund|change|remove|cancel|reimburse|compensate|waive|replace|repair|process|release|give|send|do that|help)", 1.8),
    (r"(?:isn't|is not|aren't|are not|not) (?:covered|eligible|possible|allowed|permitted|something we can|our responsibility|something we do)|(?:is|are|was|were) (?:therefore |thus |also )?(?:excluded|ineligible)|out of (?:our|my) hands|(?:beyond|outside) (?:our|my) control|(?:we|it|that|this|your (?:\w+ )?(?:plan|policy|warranty|cover|contract|tariff|package)) (?:doesn't|does not|don't|do not) (?:cover|include)|(?:i|we) (?:don't|do not) have (?:the )?(?:access|authority|ability|permission|the power)", 1.8),
    (r"(?:all|the only thing) (?:i|we) can (?:suggest|do|recommend|advise)|(?:i|we) can only (?:go by|suggest|advise|tell you|give you|offer|point you|refer you|direct you|repeat|add a note|make a note|log it|pass it on)|(?:hasn't|has not|haven't|have not) (?:given|set|confirmed) (?:us |me )?a date|(?:i|we) (?:really )?(?:couldn't|can't|cannot) (?:say|tell you|give you a date)", 1.5),
    (r"(?:no|have no|don't have any) (?:control over|update|information|way to)|unfortunately (?:not|no|that's not|we can't|i can't)", 1.5),
    (r"you(?:'d| would| will|'ll)? (?:need|have) to (?:\w+ ){0,2}(?:appeal|contact|write|go to|visit|take (?:it|that) up|take it (?:back )?to|return it to|send it (?:back |off )?to|speak to|call|raise (?:it|that) with|complain|get (?:the|your|a) \w+ to)", 1.2),
    # the thing the customer means is not found: "that's not coming up", "no record of that booking"
    (r"(?:that's|it's|thats|its) not (?:coming up|showing(?: up)?|on (?:the|our) system)|(?:no|not any) (?:record|trace) of|(?:don't|do not|can't|cannot|couldn't) (?:see|find) (?:any|an|the|your) (?:order|booking|record|payment|account|appointment|reservation|claim|application)", 1.5),
    # the matter is closed by the company: "we consider this matter closed", "found no evidence"
    (r"(?:consider|regard|deem) (?:this|the) (?:matter|case|complaint|issue) (?:closed|resolved|concluded)|(?:found|find|see|is) no evidence|(?:will not|won't) be (?:taking (?:this|it|any)|offering|paying|refunding)", 1.8),
    # sent elsewhere: "you could take it to a repair shop", "that's a separate line, the number is ..."
    (r"you (?:could|can|should|might want to|may want to|might need to|may need to) (?:\w+ ){0,2}(?:take it to|go to|contact|call|ring|speak to|try|ask) (?:a|an|the|your) (?:\w+ )?(?:repair shop|shop|store|garage|bank|council|landlord|manufacturer|retailer|gp|doctor|courier|provider|engineer|plumber|electrician|solicitor|police|insurer)|(?:a |is a )?(?:separate|different|another) (?:line|number|department|team|company)|the number (?:is|for (?:that|them) is|to call is)", 1.2),
    # not ours to fix: "streetlights are the council's responsibility, not ours"
    (r"(?:responsibility|problem|issue|department|area|job),? not (?:ours|us|mine)|only (?:the|your|their) \w+ (?:can|could|is able to) |(?:fee|charge|decision|penalty|fine|balance) (?:still )?(?:stands|remains|will remain|is (?:final|still (?:due|payable)))|(?:we|i) only (?:handle|deal with|do|cover|look after) (?:the )?\w+|(?:that's|it's|that is|it is) (?:not (?:us|ours|something we (?:handle|deal with|cover|do))|(?:a |an )?(?:matter|question|issue|one) for (?:the|your))", 1.8),
    (r"(?:chat|conversation|line|office) (?:is|has been) (?:now )?clos(?:ing|ed)|(?:contact|call|try|ring) (?:us )?(?:again|back) (?:later|tomorrow|another time|next week|in (?:a|an|\w+) (?:\w+ )?(?:hours?|days?|weeks?))|(?:i'll|i will|i'm going to|i need to|i'll need to|i have to|let me) (?:just )?(?:need to )?transfer you|(?:transfer(?:ring)?|put(?:ting)?|pass(?:ing)?|connect(?:ing)?) you (?:through |over |across )?(?:to|with) (?:the|our|a|an|my) |(?:let me|i'll|i will|i'm going to|i need to) (?:just )?(?:go and )?(?:get|fetch|grab|find|ask|speak to|check with) (?:my|a|the|our) (?:supervisor|manager|team leader|colleague|senior)", 1.5),
    (r"please be patient|(?:there's|there is) (?:no|nothing) (?:reported|wrong|fault|issue|problem) (?:\w+ ){0,3}(?:our|my) (?:end|side)|policy (?:is|says)", 1.2),
    # an inability or a rule that leaves the customer where they were: "I can't extend it",
    # "I don't have a date", "I'm not sure why", "that's our fare rule", "all customers have the rise"
    (r"(?:i|we)(?: can't| cannot| can not| couldn't| am unable to|'m unable to| are unable to|'re unable to|'m not able to| am not able to|'re not able to| are not able to) (?:\w+ ){0,2}(?:share|extend|confirm|see why|add|book|guarantee|promise|override|match|honou?r|reverse|move|reinstate|reopen|approve|accept|find|say why|tell why|explain|apply|issue|offer|reproduce|replicate|expedite|speed (?:it|that|this) up|unblock|activate)", 1.8),
    # no plan, no record, no news; the same answer higher up; the system down
    (r"(?:there's|there is|there are|there's currently) no (?:\w+ )?(?:plans?|way|option|options|record|update|date|eta|timeline|time ?frame|fix|solution|workaround|news)|(?:can't|cannot|can not|couldn't|not able to|unable to) see any (?:updates?|progress|record|notes?|reason|news)|would (?:say|tell you) (?:exactly )?the same|(?:system|systems|site|website|server|servers|portal|network|tool|database) (?:is|are|'s|'re) (?:currently |still )?(?:down|offline|unavailable)", 1.5),
    # the agent closes the case on an open problem: "I'll close this for now"
    (r"(?:i'll|i will|we'll|we will|i'm going to|i am going to|i have to|i need to) close (?:this|it|the|your) (?:\w+ )?(?:for now|ticket|case|chat|request|query)|(?:i'm|i am) (?:honestly |really )?not sure(?:[.,!]|$| (?:why|what|how|whether|then|let me|to be honest|tbh))", 1.5),
    (r"(?:i'm|i am) afraid[.!]*$", 1.2),
    (r"^not (?:at (?:the|this) (?:moment|time)|right now|currently|yet|possible)|(?:there's|there is|there are|we have|we've got) no (?:other |more )?(?:\w+ )?(?:available|left|free)|(?:there's|there is|we have|we've got) nothing (?:\w+ )?(?:before|until|till|available|free|left|sooner|earlier)|no (?:\w+ )?(?:availability|slots|appointments) (?:until|for|available|left)|fully booked|out of warranty|no longer (?:covered|valid|under warranty)|(?:i|we) (?:can only|only|have to|just) go by", 1.5),
    (r"(?:would be|'d be|is|'s) (?:a )?(?:matter|question|issue|one|something) for (?:the|your)|\bnot (?:us|ours)\b|(?:need|have) to wait (?:\w+ ){0,3}(?:days|weeks|months) before|(?:(?:i'm|i am) )?afraid (?:so|not)\b|wait (?:a (?:bit|little|few \w+)|some|a while) longer|(?:there's|there is) (?:a|quite a|a big|a large) backlog|(?:i|we) (?:really |honestly )?(?:don't|do not) know(?: why| what| how| where| when| to be honest| tbh| sorry| i'm afraid|[.,!]|$)|(?:that's|it's) the only (?:way|option|thing|choice|route)", 1.5),
    # a weak dead end: nothing found to act on ("I can't see any blocks on the card")
    (r"(?:can't|cannot|can not|couldn't|not able to|unable to) (?:see|find) (?:any|anything) (?:\w+ )?(?:problems?|issues?|faults?|blocks?|errors?|wrong)", 1.2),
    (r"thank you for your (?:feedback|comments)", 1.2),
    # a non-answer that only records what the customer said: "we have passed your comments
    # to the relevant department", "your feedback has been noted"
    (r"(?:passed|forwarded|sent|fed back) (?:on )?(?:your |the |these )?(?:comments|feedback|concerns?|views|remarks)|(?:noted|logged|recorded|taken note of) (?:your |the )?(?:comments|feedback|concerns?|views|dissatisfaction)|your (?:comments|feedback|concerns?|views)(?:,? which)? (?:has|have) been (?:passed|noted|logged|forwarded|recorded|shared)", 1.5),
    (r"(?:i|we) (?:don't|do not) (?:have|know) (?:a|any|an|the) (?:date|time ?frame|time ?scale|update|answer|eta|reason)|(?:i'm|i am) not sure why", 1.5),
    (r"(?:can't|cannot|can not|won't|will not) be (?:cancelled|canceled|refunded|changed|returned|exchanged|extended|reversed|reinstated|replaced|removed|waived)|non-refundable|(?:can't|cannot|can not) be (?:edited|amended|altered|modified|corrected|updated|transferred|moved|split|backdated)|(?:don't|do not|doesn't|does not) qualify", 1.8),
    (r"(?:it's|it is|that's|that is) (?:just )?(?:the|our) (?:\w+ )?(?:policy|rule|rules)|(?:all|every) customers? (?:have|get|pay|are)|(?:made a |is a |the )?final decision", 1.5),
    (r"^no[,.]? (?:i'm |i am )?(?:sorry|afraid)|^no[,.]? (?:i|we) (?:don't|do not|can't|cannot|won't)", 1.5),
    # a catch-all inability the lists above do not name ("I'm unable to generate it", "i cant
    # rebook it until next cycle"): weaker than a named refusal, and last (the first match wins)
    (r"(?:i|we)(?: can't| cannot| can not| couldn't| am unable to|'m unable to| are unable to|'re unable to|'m not able to| am not able to|'re not able to| are not able to| won't be able to) (?!hear|thank|wait|stress|believe|tell you how|apologi|see|find)\w+", 1.2),
]  # fmt: skip
#: the agent's very last turn asks the customer for something and nobody answered: the
#: conversation stopped mid-way ("Could you send me the order number?" as the last word)
AGENT_WAITING = re.compile(
    r"\b(?:could|can|would) you (?:please )?(?:send|give|provide|confirm|tell|upload|attach|share|forward|check|read)|"
    r"(?:please|kindly) (?:send|provide|confirm|upload|attach|reply with|share)|"
    r"what(?:'s| is) (?:your|the) (?:\w+ )?(?:number|reference|address|postcode|email|name|date)|"
    r"(?:i'll|i will|we'll) need (?:your|the|a|some)",
    re.I,
)
#: the agent's last turn puts the customer on hold or starts something, and the contact ends
#: there: "please hold", "let me just check", "transferring you now" (nobody came back)
AGENT_HOLDING = re.compile(
    r"\b(?:please hold|hold (?:the line|on|please)|bear with me|(?:one|just a) (?:moment|second|sec|minute)|"
    r"let me (?:just )?(?:check|see|look|transfer|put you|find|try)\w*|transferring you(?: now)?|"
    r"putting you (?:through|on hold)(?: now)?)\W*$",
    re.I,
)
#: agent turns that only close the contact ("Is there anything else I can help with?",
#: "I understand. Have a nice day!"): they neither add nor withdraw anything, so the window
#: of the agent's last substantive turns looks past them
AGENT_CLOSING_ONLY = re.compile(
    r"^\W*(?:(?:ok(?:ay)?|alright|right|i understand|i see|no problem|no worries|you're welcome|"
    r"thank you|thanks|sorry(?: about that| again)?|i'm sorry(?: about that| for the (?:wait|delay|inconvenience|trouble))?|"
    r"(?:we|i) (?:do |sincerely |truly )?apologi[sz]e(?: for (?:the|any) (?:\w+ )?(?:inconvenience|delay|trouble|wait|frustration)(?: caused)?)?|"
    r"dear \w+\.?(?: \w+\.?){0,3}|(?:kind |best |warm )?regards\W*[\w .&-]{0,40}$|(?:yours )?sincerely\W*[\w .&-]{0,40}$|"
    r"many thanks\W*[\w .&-]{0,40}$|"
    r"(?:is there |was there )?anything else (?:i can (?:help (?:you )?with|do for you)|today)?(?: today)?|"
    r"(?:is|was) there anything else(?: (?:i can|we can) (?:help (?:you )?with|do(?: for you)?))?(?: today)?|"
    r"have a (?:nice|good|great|lovely) (?:day|evening|weekend|one|afternoon)|thanks for (?:calling|contacting us|"
    r"your patience|getting in touch|your time|chatting(?: with us)?(?: today)?)|take care|bye|goodbye|um|uh)\W*)+$",
    re.I,
)
#: the agent did something about it after an earlier refusal ("... but I've applied a
#: credit", "done, try it now"): that refusal is no longer the agent's last word
AGENT_FIX = re.compile(
    r"\b(?:(?:(?:i've|i have|we've|we have|ive|weve)(?: just| now| also| gone ahead and| managed to)?|(?:i|we) (?:just|now|also|"
    r"have just|went ahead and|managed to)) (?:reset|fixed|refunded|"
    r"credited|applied|moved|changed|updated|added|removed|cancelled|canceled|unlocked|reactivated|restored|waived|"
    r"processed|corrected|sorted|resolved|reissued|re-sent|sent|posted|emailed|approved|activated|enabled|switched|rebooked|released|"
    r"unblocked|cleared|reversed)\b|(?:that's|that is|thats|it's|its|all|everything's) (?:now )?(?:done|sorted|fixed)\b|"
    r"(?:should|will) (?:now )?(?:be )?(?:work(?:ing)?|fine|ok(?:ay)?) now\b|try (?:it |that )?(?:again )?now\b|"
    r"^(?:ok(?:ay)? |right |so )?(?:done|all done|sorted)\b)",
    re.I,
)
#: a negation in the agent's last real answer (`_agent_said_no`) ...
AGENT_NEGATION = re.compile(
    r"\b(?:not|no|unable|can'?t|cannot|won'?t|don'?t|doesn'?t|isn'?t|"
    r"aren'?t|wasn'?t|weren'?t|haven'?t|hasn'?t|couldn'?t|wouldn'?t|didn'?t)\b",
    re.I,
)
#: an apology or regret: with a negation in the same answer it is bad news
APOLOGY = re.compile(r"\b(?:sorry|afraid|unfortunately|apologi[sz]e|regret|regrettably)\b", re.I)
#: ... unless it is good news said with a negation
GOOD_NEWS = re.compile(
    r"\b(?:no (?:problem|worries|need|charge|fee|cost|extra|change fee|issues?)|not a problem|don'?t (?:worry|need)|"
    r"(?:doesn'?t|won'?t|wouldn'?t) need|nothing (?:to (?:pay|worry)|wrong|owed|outstanding)|(?:won'?t|will not) be charged|"
    r"no longer (?:owe|due|need)|not (?:charged|owed|due|late)|(?:isn'?t|is not|aren'?t) (?:a fault|anything wrong|late|due)|"
    r"never expires?|doesn'?t expire|not expire|no further (?:payments?|charges?|action|fees?)|nothing(?:'s| has)? changed|"
    r"nothing (?:at all|owing|else (?:to do|needed))|no (?:more )?(?:payments?|charges?) will|i can confirm)\b|^\W*(?:yes|yeah|yep|yup)\b",
    re.I,
)
#: a customer opening that asks for information, not for something to be done: a "no" answers it
INFO_QUESTION = re.compile(
    r"^\W*(?:(?:hi|hello|hey|hiya|um+|uh+|er+m?|yeah|so|quick question|just)\W+)*(?:is|are|was|were|does|do|did|has|have|"
    r"what|when|where|which|who|why|how (?:long|much|many|often)|(?:can|could) you (?:tell|confirm|let) me|"
    r"i (?:just )?(?:want(?:ed)? to|need to|would like to|'d like to) (?:know|check|ask|confirm|find out))\b",
    re.I,
)
#: the customer's last turn only calls into a line that went quiet: "hello? are you still
#: there?" — the contact dropped before anything was settled
CUSTOMER_DROPPED = re.compile(
    r"^\W*(?:(?:hello+|hi|hey|are you (?:still )?there|is (?:anyone|anybody|someone) (?:still )?there|"
    r"any(?:one|body) there|(?:can|could) you (?:still )?hear me|you there|did (?:you|the line|it|the call) "
    r"(?:just )?(?:go|drop|cut out)|(?:i think )?(?:we|the line|the call|it) (?:got |has |'s |just )?"
    r"(?:cut off|dropped|disconnected)|um+|uh+|er+m?)\W*)+$",
    re.I,
)
#: an offer after a refusal in the same agent turn: the refusal is not the last word
AGENT_OFFER = re.compile(
    r"\b(?:but|however|instead|what i can do|although)\b[^.?!]{0,60}\b(?:(?:i|we)(?:'?ve|'?ll| have| will| can| could)|you (?:can|could))\b",
    re.I,
)

#: agent commitments to act after the contact (regex). A request put in, a visit booked, an
#: order placed is pending until it happens; a completed action ("I've refunded it", "I've
#: reset the line") is not a commitment.
COMMITMENT_CUES: list[str] = [
    r"(?:i'll|i will|we'll|we will|i'm going to|we're going to|someone will|somebody will|a colleague will|our team will|the team will|they'll|they will|he'll|she'll) (?:\w+ ){0,2}(?:call|ring|phone|get back|email|e-mail|contact|reach out|follow up|update|write|send|request|order|book|raise|log|submit|check back|look into|message|text|notify|let you know|visit|come|complete|courier|deliver|post|dispatch|arrange|investigate|review|be in touch|keep an eye|monitor|chase|check on|keep you (?:updated|posted|informed))",
    r"(?:a |an |our |the )?(?:\w+ )?(?:technician|engineer|courier|specialist|supervisor|manager|team|colleague|plumber|electrician|driver|department|workshop)s? (?:will|is going to|'ll|has been (?:instructed|asked|booked)(?: and will)?|are going to) (?:\w+ ){0,2}(?:visit|come|call|contact|be (?:there|with you)|arrive|get back|follow up|reach out|attend|complete|collect|deliver|review|investigate|look)",
    r"(?:i've|i have|we've|we have|i|we) (?:just )?(?:escalated|raised|opened|logged|created|booked|scheduled|arranged|ordered|reordered|re-ordered|requested|submitted|instructed|put (?:in )?(?:a|the|your) (?:\w+ )?(?:request|claim|order)|put (?:the|a|your) (?:\w+ )?(?:request|claim|order) in|sent (?:a|the|your) (?:\w+ )?(?:request|referral)) (?:\w+ ){0,5}",
    # handing the matter on is a promise only when a request or a team is named ("I've passed
    # your complaint to billing"; "I've passed your kind words on to Jo" is not)
    r"(?:i've|i have|we've|we have|i|we) (?:just )?(?:passed|forwarded|referred|sent|handed|transferred) (?:(?:your|this|the|it|a) (?:\w+ )?(?:request|case|complaint|claim|query|details|issue|ticket|problem|matter|application|it)|it|this)(?: (?:on|over|across|up))? (?:to|with) (?:the|our|a|your|their) (?:\w+ ){0,2}(?:team|department|dept|colleagues?|specialists?|manager|supervisor|engineers?|workshop|partner|courier|carrier|provider|insurer|underwriters?|experts?)",
    # any person or team that will act: "a loss adjuster will contact you", "our night crew will call"
    r"(?:a|an|the|our|your|one of our) (?:\w+ ){0,2}\w+ (?:will|'ll|is going to|are going to) (?:\w+ )?(?:visit|come (?:out|round|over|by|to)|contact|call|ring|phone|email|get back|follow up|reach out|attend|inspect|assess|review|investigate|be in touch)",
    r"(?:a |the |an |your )?(?:\w+ )?(?:technician|engineer|electrician|plumber|fitter|contractor|surveyor|inspector|locksmith|crew|visit|appointment|callback|call-back|repair|delivery|replacement|job|claim|case|request|ticket|complaint|order|report|investigation) (?:is|has been|'s|was) (?:booked|scheduled|arranged|planned|due|ordered|logged|raised|opened|escalated|submitted|passed on|referred)",
    r"(?:they're|they are|he's|she's|it's|it is) (?:booked|scheduled|due) (?:to|for|in)",
    r"(?:technician|engineer|courier|driver|plumber|electrician|fitter|installer|visit|delivery|replacement) (?:is|'s|are|'re) (?:coming|visiting|due|on (?:its|their|his|her) way|being (?:sent|arranged|posted))",
    # a physical replacement on its way (a link or an e-mail sent is done on the spot)
    r"(?:i've|i have|we've|we have|i|we) (?:just )?(?:sent|dispatched|posted|shipped|sent out|ordered) (?:you )?(?:out )?(?:a|an|the|your) (?:new |replacement |spare )?(?:replacement|card|device|unit|part|router|modem|handset|phone|kit|pack|parcel|charger|cable|box|letter)",
    # work handed to someone else who will do it later: "I've asked billing to re-issue the
    # bill", "they'll correct it and write to you", "the crew will take the old one away",
    # "our adviser, Sam, will ring you on Monday", "a new one will be posted out tomorrow"
    r"(?:(?:i've|i have|we've|we have|i|we) (?:just |also )?|and (?:have |'ve )?(?:also )?)(?:asked|told|instructed|requested|got) (?!you\b)(?:(?:the|our|a|your|their) )?(?:\w+ ){1,3}to (?!you\b)\w+",
    r"(?:they'll|they will|he'll|she'll|(?:the|our|your|a) (?:\w+ ){0,2}(?:team|office|department|crew|staff|finance|billing|accounts|warehouse|lab|adviser|advisor|manager|partner|school|bank|carrier|insurer)s?,? (?:will|'ll|are going to|is going to)) (?:\w+ ){0,3}(?:do|correct|fix|sort|process|issue|re-issue|reissue|move|refund|credit|cancel|close|take|bring|pick|collect|write|send|post|call|contact|update|book|make|add|apply|change|check|confirm)",
    r"(?:will|'ll|is going to|are going to) (?:\w+ )?(?:call|ring|phone|email|e-mail|text|contact|visit|write to) you",
    r"(?:i've|i have|we've|we have) (?:\w+ ){1,4}and (?:(?:have|'ve) )?(?:requested|ordered|reordered|re-ordered|raised|escalated|booked|arranged|asked)",
    r"(?:a|the|your) (?:new|replacement) (?:\w+ )?(?:one|card|\w+) (?:will|'ll|is going to) be (?:posted|sent|delivered|dispatched|issued|shipped|printed)|(?:it|they|this) (?:will|'ll|is going to|are going to) be (?:posted|sent out|posted out|dispatched|shipped|printed|reissued|re-issued|collected)",
    r"(?:i'm|we're|i am|we are) (?:sending|posting) you (?:a|an|the|your) (?:\w+ ){0,2}(?:pack|letter|card|form|replacement|device|kit|parcel|cheque)",
    # someone is already working on it, or will do it at a named time: "our engineers are on
    # it", "the tech team is replacing the scanner on Thursday", "a fix is due next week"
    r"(?:engineers?|team|technicians?|developers?|devs|we|we're|they|they're|it team|specialists?) (?:are |is |'re )?(?:already |currently |actively )?(?:on it|working on (?:it|this|a fix|the (?:issue|problem|fault|outage))|looking into (?:it|this|the (?:issue|problem|fault|outage)))",
    r"(?:team|we|engineers?|they|technicians?|crew|someone|courier|driver|fitter|plumber|electrician|he|she) (?:is|are|'re|'s) (?:replacing|fixing|repairing|sending|posting|visiting|coming|installing|upgrading|updating|releasing|rolling out|patching|deploying|swapping|resetting|calling|ringing|delivering|collecting|dispatching|shipping|processing|reviewing|refunding|reissuing) (?:\w+ ){0,4}(?:on (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|the \w+)|tomorrow|next (?:week|month|\w+day)|this (?:week|afternoon|evening)|later (?:today|this week)|tonight|within)",
    r"(?:i'm|i am|we're|we are) (?:just )?(?:arranging|booking|scheduling|organising|organizing|ordering|sending out) (?:a|an|the|your|you a|for)",
    r"(?:i'm|i am|we're|we are) (?:just )?sending (?:you )?(?:a|an|the|our) (?:\w+ )?(?:truck|van|engineer|technician|courier|driver|replacement|plumber|electrician|team|crew|someone|fitter|locksmith)|(?:will|'ll) be with you (?:within|in|by|at|on|tomorrow|shortly|soon|later|this)",
    r"(?:a |the )?(?:fix|patch|update|new version|release|repair|replacement) (?:is|'s|will be) (?:coming|due|expected|scheduled|planned|being (?:rolled out|worked on|prepared|made))",
    r"please allow (?:up to )?(?:\w+ ){0,3}(?:for|to)",
    r"(?:you'll|you will|you should) (?:hear (?:back )?from|get an? (?:call|callback|reply|response|email|e-mail|text|sms|confirmation|update|notification|message) (?:from|within|by|when|once|the|confirming|as soon as)|receive (?:a |an )?(?:confirmation|call|callback|reply|response|text|update|email|notification))",
    r"(?:expect|you can expect) (?:a |an )?(?:call|callback|reply|response|email|update|visit)",
    r"(?:once|when) (?:it's|it is|they've|they have|we've|we have|i've|i have|it has been) (?:approved|ready|back|checked|reviewed|confirmed|arrived|repaired|tested)",
]  # fmt: skip
#: the last this many COMMITMENT_CUES only say what the customer will receive; after an
#: action done on the spot (COMPLETED_ACTION) they are no promise
SOFT_COMMITMENTS = 3
#: actions that are done on the spot: after one of these a commitment cue describes the
#: money's journey, not work still to do ("I've refunded it, you'll get a confirmation")
COMPLETED_ACTION = re.compile(
    r"\b(?:i've|i have|we've|we have|i've just|i just) (?:\w+ )?(?:refunded|credited|reversed|applied|cancelled|canceled|"
    r"removed|reset|changed|updated|fixed|unlocked|reactivated|waived|processed)\b",
    re.I,
)

#: the customer will try the fix later and report back: a follow-up the customer owns
CUSTOMER_DEFERRALS: list[str] = [
    r"(?:i'll|i will|ill|i'm going to|im going to|we'll|gonna) (?:\w+ ){0,2}(?:try|test|give (?:it|that|this) a (?:go|try|shot)|check|do) (?:\w+ ){0,8}(?:later|tonight|this (?:evening|afternoon|weekend)|tomorrow|when i(?:'m| am| get)|once i(?:'m| am| get)|at home|and (?:let you know|call back|ring back|get back|report back|come back|see))",
    r"(?:i'll|i will|ill|we'll) (?:let you know|report back|get back to you)(?: (?:if|how|whether|when))?",
    r"(?:i'll|i will|we'll) (?:just )?(?:wait and see|see how it goes|keep an eye on it|monitor it|give it a (?:day|few days|while))",
]  # fmt: skip

#: a reply that closes the matter (the customer writing last with only this is not waiting)
CLOSING_ONLY = re.compile(
    r"^\W*(?:(?:ok(?:ay)?|great|perfect|cool|fine|brilliant|awesome|excellent|nice|ta|brill|fab|ace|thanks?|thank you|thank u|"
    r"thx|ty|tysm|cheers|good|ok good|that's good|much appreciated|appreciate it|bye|goodbye|have a (?:good|nice|great) (?:day|one)|"
    r"you too|will do|got it|understood|sounds good|all good|no|nope|that's all|that's it|nothing else|"
    r"have a (?:nice|good|great) (?:day|evening|weekend)|no thanks|no thank you)\W*)+$",
    re.I,
)
#: a last message with one of these is not read as "the customer is still waiting"
POSITIVE_WORDS = re.compile(
    r"\b(?:thank\w*|thx|ty|tysm|ta|nice|brill|fab|cheers|great|perfect|lovely|fantastic|brilliant|awesome|star|wonderful|"
    r"excellent|appreciated?|works now|worked|better|sorted|solved|fixed|amazing|found it|legend|lifesaver|love it|"
    r"what i needed)\b|[\U0001F44D\U0001F64C\U0001F64F\U0001F60A\U0001F603\U0001F389\u2705\u2764\U0001F970]",
    re.I,
)
#: vendor status -> (signal, weight)
VENDOR_STATUS: dict[str, tuple[str, float]] = {
    "solved": ("resolved", 2.5), "closed": ("resolved", 2.0), "archived": ("resolved", 1.5),
    "resolved": ("resolved", 2.5), "pending": ("pending", 1.5), "hold": ("pending", 1.5),
    "on-hold": ("pending", 1.5), "snoozed": ("pending", 1.5),
    # "open" is weak: conversations are often left open after the customer is helped
    "new": ("unresolved", 0.8), "open": ("unresolved", 0.8), "assigned": ("unresolved", 0.5),
    "unassigned": ("unresolved", 0.8),
}  # fmt: skip


#: spoken fillers ASR writes between a cue's words ("this is um this is mad", "i can only uh
#: give you"): every space of a cue lets them through
_FILLER = r"(?:(?:um+|uh+|uhm|erm?|hmm+|mm+),? )"


def _rx(p: str, end: bool = True) -> re.Pattern[str]:
    """Whole words: a word boundary on each side (none after an end-of-text anchor). The
    apostrophe is optional: ASR and quick chat typing write "ill call back", "dont", "its"."""
    p = p.replace("'", "'?")
    p = p.replace(" ?", f"(?: {_FILLER}*)?").replace(" ", f" {_FILLER}*")
    return re.compile(rf"\b{p}" if p.endswith("$") or not end else rf"\b{p}\b", re.I)


def compile_weighted(cues: list[tuple[str, float]]) -> list[tuple[re.Pattern[str], float]]:
    return [(_rx(p), w) for p, w in cues]


#: The compiled lists, built on first use (PEP 562 module `__getattr__`): the ~120 cues with
#: their filler-tolerant spaces take about a quarter of a second to compile, and every CLI
#: process imports this module through the configuration, most of them never to judge a
#: resolution. A race builds a list twice, which is harmless.
_BUILDERS: dict[str, Callable[[], list[Any]]] = {
    "RES": lambda: [(_rx(p), w, k) for p, w, k in RESOLVED_CUES],
    "UNRES": lambda: compile_weighted(UNRESOLVED_CUES),
    "SARCASM": lambda: [
        *compile_weighted(SARCASM_CUES),
        # eye-rolls, frowns and sad faces (":("); emoji have no word boundary, so they are compiled apart
        (re.compile("[\U0001F644\U0001F612\U0001F624\U0001F621\U0001F92C\U0001F44E\U0001F61E\U0001F622\U0001F614\u2639]|:-?\\("), 1.8),
    ],
    "REFUSALS": lambda: compile_weighted(AGENT_REFUSALS),
    "COMMIT": lambda: [_rx(p, end=False) for p in COMMITMENT_CUES],
    "DEFER": lambda: [_rx(p) for p in CUSTOMER_DEFERRALS],
}


def __getattr__(name: str) -> list[Any]:
    build = _BUILDERS.get(name)
    if build is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = build()
    globals()[name] = value
    return value

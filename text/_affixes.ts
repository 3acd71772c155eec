/**
 * Word lists of the word tokenizer: abbreviations that keep their period, emoticons, English clitics, French
 * elisions and hyphenated clitics.
 *
 * @module
 */

/** Abbreviations kept whole with their final period (initials like `U.S.`, `e.g.`, `J.` are found by shape). */
export const ABBREVIATIONS: ReadonlySet<string> = new Set(
  ("Mr. Mrs. Ms. Messrs. Dr. Drs. Prof. Rev. Hon. Gen. Gov. Sen. Rep. Sgt. Cpl. Pvt. Col. Capt. Cmdr. Lt. Maj. " +
    "Adm. Jr. Sr. St. Ste. Mt. Ft. vs. Vs. v. etc. Inc. Ltd. Co. Corp. Bros. No. Nos. Jan. Feb. Mar. Apr. Jun. " +
    "Jul. Aug. Sep. Sept. Oct. Nov. Dec. Mon. Tue. Tues. Wed. Thu. Thur. Thurs. Fri. Sat. Sun. approx. dept. " +
    "Dept. est. fig. Fig. figs. vol. Vol. vols. p. pp. ch. Ch. Ave. Blvd. Rd. Ph.D. cf. al. ca. Ala. Ariz. Ark. " +
    "Calif. Colo. Conn. Del. Fla. Ga. Ill. Ind. Kan. Kans. Ky. La. Md. Mass. Mich. Minn. Miss. Mo. Mont. Neb. " +
    "Nev. Okla. Ore. Pa. Penn. Tenn. Tex. Va. Vt. Wash. Wis. Wyo. mr. mrs. dr. prof. st. jr. sr. inc. ltd. co. " +
    "corp. jan. feb. aug. sept. oct. nov. dec. Mme. Mlle. MM. Me. env. av. apr. janv. févr. juil. sept. déc.")
    .split(" "),
);

/** Emoticons kept as one token when they stand alone. */
export const EMOTICONS: ReadonlySet<string> = new Set(
  (":) :-) :)) :-)) :( :-( :(( :-(( ;) ;-) :D :-D :P :-P :p :-p ;P ;p ;-p :o :O :-o :-O :/ :-/ :| :-| :] :-] " +
    ":[ :-[ :* :-* :'( :') =) =( =D =] =/ (: ): (; <3 <33 </3 xD XD xP XP ^_^ ^^ -_- o.O O.o 0_o o_O o_o :3 " +
    ">:( >:o >:) :> 8) 8-) B) B-) :S :$ :@ ;D")
    .split(" "),
);

/** English clitics split off the end of a word (`it's` -> `it 's`, `we'll` -> `we 'll`), lowercase, `'` form. */
export const EN_CLITICS: ReadonlySet<string> = new Set(["'s", "'m", "'d", "'ll", "'re", "'ve"]);

/** French elided words split off the start of a word (`l'homme` -> `l' homme`), lowercase, without the `'`. */
export const FR_ELISIONS: ReadonlySet<string> = new Set(
  "l d j m n s t c qu jusqu lorsqu puisqu quoiqu presqu".split(" "),
);

/** French pronouns split off the end of a word with their hyphen (`dit-il`, `pensez-vous`, `est-ce`). */
export const FR_CLITICS: ReadonlySet<string> = new Set(
  "je tu il elle on nous vous ils elles ce le la les lui leur moi toi en y là ci".split(" "),
);

/** French pronouns that take the euphonic `-t-` (`a-t-il`). */
export const FR_T_CLITICS: ReadonlySet<string> = new Set("il elle on ils elles".split(" "));

/** French hyphenated words kept whole (lowercase); other hyphenated words are split as in English. */
export const FR_KEEP: ReadonlySet<string> = new Set(
  ("rendez-vous peut-être vis-à-vis au-dessus au-dessous au-delà au-devant là-bas là-haut là-dedans " +
    "grand-mère grand-père grands-parents arc-en-ciel week-end après-midi sous-marin porte-monnaie " +
    "pot-au-feu va-et-vient est-à-dire c'est-à-dire quelques-uns quelques-unes dix-sept dix-huit " +
    "dix-neuf vingt-et-un")
    .split(" "),
);

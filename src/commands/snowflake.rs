//! `tickstream snowflake ddl` (the objects that load our files) and `snowflake fingerprint`
//! (what to register on the monitoring user).

use std::path::Path;
use std::process::ExitCode;

use tickstream::warehouse::snowflake::jwt::KeyPairAuth;

pub fn ddl(file: &Path) -> ExitCode {
    match super::load(file) {
        Ok(c) => {
            print!("{}", tickstream::warehouse::snowflake::ddl(&c));
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

pub fn fingerprint(file: &Path) -> ExitCode {
    let c = match super::load(file) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let sf = &c.warehouse.snowflake;
    let (Some(account), Some(user), Some(path)) = (&sf.account, &sf.user, &sf.private_key_path) else {
        eprintln!(
            "warehouse.snowflake.account, user and private_key_path must all be set \
             (or TICKSTREAM_SNOWFLAKE_ACCOUNT, _USER, _PRIVATE_KEY_PATH)"
        );
        return ExitCode::from(super::EXIT_CONFIG);
    };
    match KeyPairAuth::from_file(account, user, path) {
        Ok(auth) => {
            println!("RSA_PUBLIC_KEY_FP  {}", auth.fingerprint());
            println!(
                "{}",
                tickstream::warehouse::snowflake::ddl::set_rsa_public_key(user, &auth.public_key_base64())
            );
            ExitCode::SUCCESS
        }
        Err(e) => super::fail(
            "tickstream snowflake fingerprint",
            &e,
            ExitCode::from(super::EXIT_CONFIG),
        ),
    }
}

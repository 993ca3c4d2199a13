//! `tickstream snowflake ddl` (the objects that load our files) and `snowflake fingerprint`
//! (what to register on the monitoring user).

use std::path::Path;
use std::process::ExitCode;

use tickstream::warehouse::snowflake::jwt::KeyPairAuth;

use super::Outcome;

pub fn ddl(file: &Path) -> Outcome {
    let config = super::load(file)?;
    print!("{}", tickstream::warehouse::snowflake::ddl(&config));
    Ok(ExitCode::SUCCESS)
}

pub fn fingerprint(file: &Path) -> Outcome {
    let c = super::load(file)?;
    let sf = &c.warehouse.snowflake;
    let (Some(account), Some(user), Some(path)) = (&sf.account, &sf.user, &sf.private_key_path) else {
        eprintln!(
            "warehouse.snowflake.account, user and private_key_path must all be set \
             (or TICKSTREAM_SNOWFLAKE_ACCOUNT, _USER, _PRIVATE_KEY_PATH)"
        );
        return Err(ExitCode::from(super::EXIT_CONFIG));
    };
    Ok(match KeyPairAuth::from_file(account, user, path) {
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
    })
}
